// POST /v1/flows/{name}/replay (docs/http-api.md#replay): runs the events the
// server retained for a period (docs/operations.md#event-retention) through a
// draft, or any deployed version, and through the live version, each in a
// throwaway Engine on a temporary SQLite file on a virtual clock (the engine
// `trellis test` and POST /v1/simulate use), and compares what each did:
// journeys started, messages by node and channel, conversions, and a sample
// of users whose path differs with both traces.
//
// The live side is run, not read from the server's store: the store's
// journeys include ones started before the period, pauses and deploys made
// during it and timers not yet due, so replaying both on the same events
// makes every difference the draft's own.
//
// Request: {"from": RFC 3339, "to": RFC 3339} or {"last": "7d"};
//          {"draft": flow text (YAML or DSL) or IR JSON} or {"version": 3};
//          "sample": users to show (default 5, at most 50).
// Nothing is delivered: the engines have no delivery adapter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>

#include "runtime/delivery/config.h"
#include "runtime/engine.h"

namespace trellis::api {

// What one replay may take and spend (docs/limits.md, "replay"); tests lower them.
struct ReplayLimits {
  size_t max_events = 100000;  // retained events of the period
  size_t max_sample = 50;
  size_t max_timer_rounds = 1000000;          // per side
  std::chrono::milliseconds max_time{60000};  // wall time of both sides together
};

// One replay at a time per server: two would share its cores and its memory
// with ingest; a second caller is told to wait (409 `replay_running`).
class ReplaySlot {
 public:
  // True when the slot was free and is now the caller's, until release().
  bool try_take() { return !taken_.exchange(true); }
  void release() { taken_ = false; }

 private:
  std::atomic<bool> taken_{false};
};

struct ReplayOutcome {
  // 200; 400 invalid_replay; 404 unknown_flow; 413 replay_too_large; 422
  // invalid_flow or replay_limit
  int status = 200;
  nlohmann::json body;
};

struct ReplayContext {
  runtime::Engine* engine = nullptr;  // the server's: retained events, flows, profiles
  std::shared_ptr<const runtime::delivery::DeliveryConfig> delivery;
  ReplayLimits limits;
};

ReplayOutcome replay(const std::string& flow_name, const nlohmann::json& request,
                     const ReplayContext& context);

}  // namespace trellis::api
