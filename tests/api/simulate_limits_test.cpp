// POST /v1/simulate's bounds (docs/limits.md, "simulate"): malformed input
// answers 400, too much input 413, a run over its budget 422 naming the limit.
// simulate() is called directly with lowered limits, so each case stays small.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/simulate.h"
#include "tests/api/service_fixture.h"

using nlohmann::json;
using trellis::api::simulate;
using trellis::api::SimulateContext;
using trellis::api::SimulateOutcome;

namespace {

// A journey that texts every second for ever: the shape that ran 357 s.
constexpr const char* kLoopFlow = R"(flow: loop
trigger:
  event: go
start: tick
nodes:
  tick:
    type: wait
    for: 1s
    next: text
  text:
    type: sms
    text: again
    next: tick
)";

json loop_request(const json& horizon) {
  json request = {{"flow", kLoopFlow},
                  {"users", {{"u1", {{"phone", "+1"}}}, {"u2", {{"phone", "+2"}}}}},
                  {"events",
                   {{{"at", "0s"}, {"type", "go"}, {"user", "u1"}},
                    {{"at", "0s"}, {"type", "go"}, {"user", "u2"}}}}};
  if (!horizon.is_null()) request["horizon"] = horizon;
  return request;
}

SimulateContext lowered() {
  SimulateContext context;
  context.deployed_source = [](const std::string&) { return std::nullopt; };
  context.limits.max_users = 3;
  context.limits.max_events = 4;
  context.limits.max_coupon_codes = 5;
  context.limits.max_timer_rounds = 50;
  context.limits.max_steps = 400;
  context.limits.max_deliveries = 100;
  return context;
}

void require_limit(const SimulateOutcome& out, const std::string& limit) {
  INFO(out.body.dump());
  REQUIRE(out.status == 422);
  CHECK(out.body["error"] == "simulation_limit");
  CHECK(out.body["limit"]["name"] == limit);
  CHECK(out.body["detail"].get<std::string>().find(limit) != std::string::npos);
  CHECK(out.body["progress"].contains("offset"));
}

}  // namespace

TEST_CASE("a short loop within the limits answers 200 with its whole trace") {
  SimulateOutcome out = simulate(loop_request("10s"), lowered());
  INFO(out.body.dump());
  REQUIRE(out.status == 200);
  CHECK(out.body["deliveries"].size() == 20);  // 10 ticks for each of 2 users
}

TEST_CASE("a horizon that is not a finite duration within 400 days is a 400") {
  for (const json& horizon : {json(1e300), json(-1), json(400.0 * 86400 + 1), json("401d"),
                              json("99999999999d"), json(true)}) {
    SimulateOutcome out = simulate(loop_request(horizon), lowered());
    INFO(horizon.dump() << " " << out.body.dump());
    CHECK(out.status == 400);
    CHECK(out.body["error"] == "invalid_simulation");
  }
  json late_event = loop_request("1s");
  late_event["events"][0]["at"] = 1e300;
  CHECK(simulate(late_event, lowered()).status == 400);
}

TEST_CASE("too many users, events or coupon codes is a 413 naming the field") {
  json users = loop_request("1s");
  users["users"] = {
      {"a", json::object()}, {"b", json::object()}, {"c", json::object()}, {"d", json::object()}};
  SimulateOutcome out = simulate(users, lowered());
  CHECK(out.status == 413);
  CHECK(out.body["error"] == "simulation_too_large");
  CHECK(out.body["limit"] == json{{"name", "users"}, {"value", 3}});

  json event_users = loop_request("1s");  // 2 named users and 2 more in events
  event_users["events"].push_back({{"at", "1s"}, {"type", "go"}, {"user", "u3"}});
  event_users["events"].push_back({{"at", "1s"}, {"type", "go"}, {"user", "u4"}});
  CHECK(simulate(event_users, lowered()).body["limit"]["name"] == "users");

  json events = loop_request("1s");
  for (int i = 0; i < 3; ++i) events["events"].push_back(events["events"][0]);
  out = simulate(events, lowered());
  CHECK(out.status == 413);
  CHECK(out.body["limit"]["name"] == "events");

  json coupons = loop_request("1s");
  coupons["coupons"] = {{"A", {"1", "2", "3"}}, {"B", {"4", "5", "6"}}};
  out = simulate(coupons, lowered());
  CHECK(out.status == 413);
  CHECK(out.body["limit"]["name"] == "coupons");
}

TEST_CASE("a run over its budget is a 422 naming the limit and how far it got") {
  SECTION("timer rounds") {
    SimulateOutcome out = simulate(loop_request(nullptr), lowered());  // default horizon: 400d
    require_limit(out, "timer_rounds");
    CHECK(out.body["limit"]["value"] == 50);
    CHECK(out.body["progress"]["timer_rounds"] == 50);
    CHECK(out.body["progress"]["offset"] == "50s");
  }
  SECTION("steps, counted as timers fire") {
    SimulateContext context = lowered();
    context.limits.max_steps = 30;
    require_limit(simulate(loop_request(nullptr), context), "steps");
  }
  SECTION("steps, counted in the trace") {
    SimulateContext context = lowered();
    context.limits.max_steps = 30;  // 2 timers and 4 steps per second
    SimulateOutcome out = simulate(loop_request("8s"), context);
    require_limit(out, "steps");
    CHECK(out.body["progress"]["timers_fired"] == 16);
    CHECK(out.body["progress"]["steps"] > 30);
  }
  SECTION("deliveries") {
    SimulateContext context = lowered();
    context.limits.max_deliveries = 10;
    require_limit(simulate(loop_request("10s"), context), "deliveries");
  }
  SECTION("answer size") {
    SimulateContext context = lowered();
    context.limits.max_answer_bytes = 2000;
    require_limit(simulate(loop_request("10s"), context), "answer_bytes");
  }
  SECTION("wall time") {
    SimulateContext context = lowered();
    context.limits.max_time = std::chrono::milliseconds(0);
    require_limit(simulate(loop_request("10s"), context), "time_ms");
  }
}

TEST_CASE("POST /v1/simulate answers the limits' statuses over HTTP") {
  trellis::api::testing::ServiceFixture f;
  f.start();
  using trellis::api::testing::require_error;
  require_error(f.post_json("/v1/simulate", loop_request(1e300)), 400, "invalid_simulation");
  json users = loop_request("1s");
  for (int i = 0; i <= 1000; ++i) users["users"]["x" + std::to_string(i)] = json::object();
  require_error(f.post_json("/v1/simulate", users), 413, "simulation_too_large");
}
