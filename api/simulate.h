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
//            firing (default 400d)
// Ordering follows `trellis test`: a timer due at an event's instant fires after it.
// The simulated engine runs under the server's delivery configuration, so its
// deliveries carry the same governance outcomes (deferred, suppressed,
// dropped, with their reasons) as a real run would.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/delivery/config.h"

namespace trellis::api {

struct SimulateOutcome {
  int status = 200;  // 200, 400 invalid_simulation, 422 invalid_flow, 500 internal
  nlohmann::json body;
};

// What a simulation borrows from the server.
struct SimulateContext {
  // The text of a deployed flow by name, or nullopt.
  std::function<std::optional<std::string>(const std::string&)> deployed_source;
  // The server's delivery configuration; null: none.
  std::shared_ptr<const runtime::delivery::DeliveryConfig> delivery;
};

SimulateOutcome simulate(const nlohmann::json& request, const SimulateContext& context);

// "72h", "90s", "1h30m", "0s".
std::string format_offset(int64_t seconds);

}  // namespace trellis::api
