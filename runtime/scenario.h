// Scenario tests (docs/scenarios.md): a flow, users, coupon pools, timed events, and the
// exact list of deliveries expected. run_scenario_file() runs one file on a
// virtual clock through the same Engine (and so the same store, step function
// and timers) as `trellis serve`, on a fresh store: by default a SQLite file in
// a temp directory.
//
// Ordering on the virtual clock: before each event, every timer due strictly
// earlier fires (in due order, the clock set to each due time); then the event
// is applied; a timer due at the event's instant fires after it (docs/scenarios.md#events).
// After the last event, timers keep firing until none is left. Deferred
// messages (caps, quiet hours) are judged again on the same clock, as timers.
//
// Governed delivery: `config:` names a delivery
// configuration file (relative to the scenario) or holds one inline; an event
// item `{at: 1h, consent: {sms: false}, user: u1}` sets consent as the API
// does; `expect` items may check `status` (sent, pending, deferred,
// suppressed, dropped, dead: a run has no dispatcher, so a released message
// stays pending, and `sent` and `pending` both mean "released"), `release_at`
// (an offset like `at`) and `reason_contains` (the governance reason); and
// `trace: [{user, flow?, contains}]` requires some step of the user's
// journeys to contain the text. Expected deliveries include suppressed and
// dropped ones, in the order their nodes ran.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dsl/ir/flow.h"
#include "dsl/ir/result.h"
#include "runtime/store.h"

namespace trellis::runtime {

struct LoadedFlow {
  ir::Flow flow;
  std::string source;
};

// Loads and checks a flow file (the app passes the YAML/DSL loader). An error
// message carries the rendered diagnostics.
using FlowFileLoader = std::function<Result<LoadedFlow>(const std::string& path)>;

struct ScenarioResult {
  std::string file;
  std::string name;  // `name:` or the file name
  bool passed = false;
  std::vector<std::string> failures;  // what differed, one line each
  size_t deliveries = 0;              // how many the run produced
};

// The store a scenario runs on, given the run's temp directory: a fresh one
// per call (the PostgreSQL tests hand out a new schema each time).
using ScenarioStore = std::function<StoreFactory(const std::string& temp_dir)>;

// Runs one scenario file. Never throws; a malformed file is a failed result
// whose failure says why. `store` null: a SQLite file in the temp directory.
ScenarioResult run_scenario_file(const std::string& path, const FlowFileLoader& load_flow,
                                 const ScenarioStore& store = nullptr);

}  // namespace trellis::runtime
