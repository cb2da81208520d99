// Firing timers on a virtual clock, for the runs that replay time instead of
// waiting for it: scenario tests (`trellis test`) and POST /v1/simulate. A
// flow whose timers re-arm for ever (a 1-second loop) would keep such a run
// busy without end, so every call runs under a budget: timer rounds, timers
// fired and a wall-clock deadline, and says which one ran out.
#pragma once

#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "dsl/ir/flow.h"
#include "dsl/ir/result.h"
#include "runtime/clock.h"

namespace trellis::runtime {

class Engine;
namespace delivery {
struct DeliveryConfig;
}

// A folder of its own under the system's temporary directory (TMPDIR, else
// /tmp), named `prefix` and six random characters, removed with everything in
// it when this goes: where a virtual run keeps its throwaway store. `path` is
// empty when the folder could not be made.
struct TempFolder {
  explicit TempFolder(const std::string& prefix);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  std::string path;
};

struct VirtualRunBudget {
  size_t max_rounds = 100000;  // fire_due_timers() calls (one per distinct due time)
  size_t max_timers = std::numeric_limits<size_t>::max();  // timers fired in all
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// What a run has used so far; callers keep one across calls to share a budget.
struct VirtualRunProgress {
  size_t rounds = 0;
  size_t timers = 0;
};

enum class BudgetLimit { kNone, kRounds, kTimers, kTime };

struct FireOutcome {
  Status status;  // the store failed
  BudgetLimit exceeded = BudgetLimit::kNone;
  bool ok() const { return status.ok() && exceeded == BudgetLimit::kNone; }
};

// Fires every timer due before `limit` (or at it, when `inclusive`), in due
// order, the clock set to each due time in turn; stops early when `budget`
// runs out (the clock then stands at the last due time fired).
FireOutcome fire_timers_until(Engine& engine, VirtualClock& clock, TimeMs limit, bool inclusive,
                              const VirtualRunBudget& budget, VirtualRunProgress& progress);

// A throwaway engine that runs `flow` alone (deployed from `source`) on
// `clock`: its store a SQLite file in `folder` (a TempFolder's, whatever
// store the server has), no dispatcher (nothing leaves the outbox),
// `delivery` (may be null) as its configuration. `flow` must outlive it.
// Errors: the store or the engine does not open, the flow does not deploy.
Result<std::unique_ptr<Engine>> open_flow_engine(
    const std::string& folder, VirtualClock& clock, const ir::Flow& flow, const std::string& source,
    std::shared_ptr<const delivery::DeliveryConfig> delivery);

}  // namespace trellis::runtime
