// POST /v1/simulate: runs a flow for sample users and events on a virtual
// clock, through a throwaway Engine on a temporary SQLite file (the same
// runtime code `trellis test` uses), and reports the path each journey took
// and the deliveries that would be sent. Nothing is delivered and the
// server's own store is untouched.
//
// Request:  {"flow": <IR JSON object | flow text | name of a deployed flow>,
//            "users": {"u1": {traits}}, "coupons": {"POOL": ["C-1"]},
//            "consent": {"u1": {"sms": false}},   // as PUT /v1/users/{id}/consent takes
//            "events": [{"at": "0s", "type": "add_to_cart", "user": "u1", "id"?: "e1",
//            ...properties}], "horizon": "30d"}   // how long after the last event timers keep
//            firing (default and most 400d)
// Every input and the work a run may do are bounded (SimulateLimits; docs/limits.md,
// "simulate"): malformed input answers 400, too many users, events or coupon
// codes 413, and a run that exceeds its step, round, answer-size or time
// budget 422 `simulation_limit`, naming the limit, its value and how far the
// run got.
// Ordering follows `trellis test`: a timer due at an event's instant fires after it.
// The simulated engine runs under the server's delivery configuration, so its
// deliveries carry the same governance outcomes (deferred, suppressed,
// dropped, with their reasons) as a real run would.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/delivery/config.h"

namespace trellis::api {

// What one simulation may ask for and spend. The defaults are documented in
// docs/limits.md ("simulate"); tests lower them.
struct SimulateLimits {
  size_t max_users = 1000;           // `users`, `consent` and the users events name
  size_t max_events = 10000;         // `events`
  size_t max_coupon_codes = 100000;  // codes over every pool of `coupons`
  int64_t max_horizon_seconds = int64_t{400} * 24 * 3600;  // also the latest event `at`
  size_t max_timer_rounds = 100000;                        // distinct due times fired
  size_t max_steps = 100000;  // trace steps (while running: timers fired)
  size_t max_deliveries = 10000;
  size_t max_answer_bytes = size_t{16} << 20;
  std::chrono::milliseconds max_time{10000};  // wall time of the run
};

struct SimulateOutcome {
  // 200; 400 invalid_simulation; 413 simulation_too_large; 422 invalid_flow or
  // simulation_limit; 500 internal
  int status = 200;
  nlohmann::json body;
};

// What a simulation borrows from the server.
struct SimulateContext {
  // The text of a deployed flow by name, or nullopt.
  std::function<std::optional<std::string>(const std::string&)> deployed_source;
  // The server's delivery configuration; null: none.
  std::shared_ptr<const runtime::delivery::DeliveryConfig> delivery;
  SimulateLimits limits;
};

SimulateOutcome simulate(const nlohmann::json& request, const SimulateContext& context);

// "72h", "90s", "1h30m", "0s".
std::string format_offset(int64_t seconds);

}  // namespace trellis::api
