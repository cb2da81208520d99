// POST /v1/simulate: runs a flow for sample users and events on a virtual
// clock, through a throwaway Engine on a temporary SQLite file (the same
// runtime code `trellis test` uses), and reports the path each journey took
// and the deliveries that would be sent. Nothing is delivered and the
// server's own store is untouched.
//
// Request:  {"flow": <IR JSON object | flow text | name of a deployed flow>,
//            "users": {"u1": {traits}}, "coupons": {"POOL": ["C-1"]},
//            "events": [{"at": "0s", "type": "add_to_cart", "user": "u1", "id"?: "e1",
//            ...properties}], "horizon": "30d"}   // how long after the last event timers keep
//            firing (default 400d)
// Ordering follows SPEC §6: a timer due at an event's instant fires after it.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace trellis::api {

struct SimulateOutcome {
  int status = 200;  // 200, 400 invalid_simulation, 422 invalid_flow, 500 internal
  nlohmann::json body;
};

// `deployed_source` returns the text of a deployed flow by name (or nullopt).
SimulateOutcome simulate(
    const nlohmann::json& request,
    const std::function<std::optional<std::string>(const std::string&)>& deployed_source);

// "72h", "90s", "1h30m", "0s".
std::string format_offset(int64_t seconds);

}  // namespace trellis::api
