// Event retention and replay through real HTTP on loopback, against a real
// SQLite file (docs/operations.md#event-retention, docs/http-api.md#replay):
// applied events kept once each, bounded by count and age, following an
// identity merge, listed by the export and erased with the user; a replay of
// a known set of events through a draft that changes a wait, and through a
// version whose condition differs.
#include <catch2/catch.hpp>
#include <chrono>

#include "api/replay.h"
#include "runtime/clock.h"
#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

// The cart flow: gold users go to `gold_next`, then everyone waits `wait` for
// checkout; without it, an SMS.
std::string cart_flow(const std::string& wait, const std::string& gold_next = "wait_pay") {
  return "flow: cart\n"
         "trigger: { event: cart_updated }\n"
         "start: pick\n"
         "nodes:\n"
         "  pick: { type: segment, match: user.tier == \"gold\", yes: " +
         gold_next +
         ", no: wait_pay }\n"
         "  wait_pay: { type: wait, until_event: checkout, for: " +
         wait +
         ", on_event: done, next: remind }\n"
         "  remind: { type: sms, text: \"your cart\", next: done }\n"
         "  done: { type: exit }\n";
}

// Live: wait up to 2h for checkout; without it, an SMS.
const std::string kCart = cart_flow("2h");
// The draft: the same flow waiting 30m.
const std::string kCartShortWait = cart_flow("30m");
// Version 1 of another shape: gold users exit at once (a condition that the
// live version 2, kCart, does not have).
const std::string kCartGoldExits = cart_flow("2h", "done");

std::string config(const std::string& retention) {
  return "channels: {sms: {provider: file}}\nretention: " + retention + "\n";
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Fixture : api::testing::ServiceFixture {
  explicit Fixture(const std::string& retention = "{events: 7d, max_events: 1000}",
                   const std::string& flow = kCart) {
    add_flow("cart.yaml", flow);
    add_flow("trellis.yaml", config(retention));
    start();
  }

  void send(const json& events) { send_events(events); }

  json exported(const std::string& user) {
    auto r = client->Get("/v1/users/" + user + "/export", headers());
    REQUIRE(r);
    if (r->status == 404) return json::object();
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  }

  std::vector<std::string> types_of(const std::string& user) {
    std::vector<std::string> out;
    for (const auto& e : exported(user).value("events", json::array())) out.push_back(e["type"]);
    return out;
  }

  json replay(const json& body) { return post_ok("/v1/flows/cart/replay", body); }
};

json event(const std::string& type, const std::string& user, int64_t at_ms, const std::string& id) {
  return {{"type", type},
          {"user_id", user},
          {"time", trellis::runtime::format_rfc3339(at_ms)},
          {"id", id}};
}

int64_t messages_of(const json& side, const std::string& node) {
  for (const auto& m : side["messages"])
    if (m["node"] == node) return m["messages"];
  return 0;
}

}  // namespace

TEST_CASE("retained events are kept once each, listed by the export and erased with the user") {
  Fixture f;
  const int64_t t = now_ms() - 3600'000;
  f.send(json::array({event("cart_updated", "u1", t, "e1"), event("viewed", "u1", t + 1, "e2")}));
  f.send(json::array({event("viewed", "u1", t + 1, "e2")}));  // redelivered: a duplicate
  const json held = f.exported("u1");
  REQUIRE(held["events"].size() == 2);
  CHECK(held["events"][0]["type"] == "cart_updated");
  CHECK(held["events"][0]["id"] == "e1");
  CHECK(held["events"][1]["type"] == "viewed");

  auto erased = f.client->Delete("/v1/users/u1", f.headers());
  REQUIRE(erased);
  REQUIRE(erased->status == 200);
  CHECK(f.types_of("u1").empty());
  // Nothing of u1 is left for a replay either.
  const json replayed = f.replay({{"last", "1d"}, {"draft", kCartShortWait}});
  CHECK(replayed["events"] == 0);
}

TEST_CASE("retained events of an anonymous id follow it when it is merged into a user") {
  Fixture f;
  const int64_t t = now_ms() - 60'000;
  f.send(json::array({event("viewed", "anon-7", t, "a1")}));
  CHECK(f.types_of("anon-7") == std::vector<std::string>{"viewed"});
  f.send(json::array({{{"type", "identify"},
                       {"user_id", "u9"},
                       {"anonymous_id", "anon-7"},
                       {"id", "i1"},
                       {"time", trellis::runtime::format_rfc3339(t + 1)},
                       {"properties", {{"tier", "gold"}}}}}));
  f.send(json::array({event("viewed", "anon-7", t + 2, "a2")}));  // after: the user's
  CHECK(f.types_of("u9") == std::vector<std::string>{"viewed", "identify", "viewed"});
  CHECK(f.types_of("anon-7").empty());
}

TEST_CASE("retention keeps at most max_events, the newest") {
  Fixture f("{events: 7d, max_events: 3}");
  const int64_t t = now_ms() - 60'000;
  for (int i = 0; i < 6; ++i)
    f.send(json::array({event("viewed", "u1", t + i, "e" + std::to_string(i))}));
  const json held = f.exported("u1");
  REQUIRE(held["events"].size() == 3);
  CHECK(held["events"][0]["id"] == "e3");
  CHECK(held["events"][2]["id"] == "e5");
}

TEST_CASE("retention drops events older than its age as new ones arrive") {
  Fixture f("{events: 1h, max_events: 1000}");
  const int64_t now = now_ms();
  f.send(json::array({event("viewed", "u1", now - 3 * 3600'000, "old"),
                      event("viewed", "u1", now - 60'000, "new")}));
  const json held = f.exported("u1");
  REQUIRE(held["events"].size() == 1);
  CHECK(held["events"][0]["id"] == "new");
}

TEST_CASE("retention off keeps no events") {
  Fixture f("{events: 0}");
  f.send(json::array({event("viewed", "u1", now_ms(), "e1")}));
  CHECK(f.types_of("u1").empty());
}

TEST_CASE("a replay through a draft with a shorter wait shows the users whose path changes") {
  Fixture f;
  for (const char* user : {"u1", "u2", "u3"}) f.put_traits(user, {{"phone", "+15550100"}});
  const int64_t t = now_ms() - 6 * 3600'000;
  // u1 checks out after 1h (live: in time, no SMS; draft: reminded at 30m),
  // u2 after 3h (both remind), u3 never (both remind).
  f.send(json::array({event("cart_updated", "u1", t, "c1"), event("cart_updated", "u2", t, "c2"),
                      event("cart_updated", "u3", t, "c3"),
                      event("checkout", "u1", t + 3600'000, "k1"),
                      event("checkout", "u2", t + 3 * 3600'000, "k2")}));
  const json out = f.replay({{"last", "7d"}, {"draft", kCartShortWait}, {"sample", 5}});
  CHECK(out["events"] == 5);
  CHECK(out["users"] == 3);
  CHECK(out["live"]["version"] == 1);
  CHECK(out["draft"]["version"].is_null());
  CHECK(out["live"]["journeys"] == 3);
  CHECK(out["draft"]["journeys"] == 3);
  CHECK(messages_of(out["live"], "remind") == 2);
  CHECK(messages_of(out["draft"], "remind") == 3);
  CHECK(out["differing_users"] == 1);
  REQUIRE(out["sample"].size() == 1);
  const json& u1 = out["sample"][0];
  CHECK(u1["user_id"] == "u1");
  // Both traces, rendered as GET /v1/journeys/{id} renders them.
  REQUIRE(u1["live"].size() == 1);
  REQUIRE(u1["draft"].size() == 1);
  std::vector<std::string> live_nodes, draft_nodes;
  for (const auto& s : u1["live"][0]["steps"]) live_nodes.push_back(s["node"]);
  for (const auto& s : u1["draft"][0]["steps"]) draft_nodes.push_back(s["node"]);
  CHECK(std::find(live_nodes.begin(), live_nodes.end(), "remind") == live_nodes.end());
  CHECK(std::find(draft_nodes.begin(), draft_nodes.end(), "remind") != draft_nodes.end());
  CHECK(u1["draft"][0]["steps"][0].contains("reason"));
  // Nothing was delivered and the server's store did not change.
  const json deliveries = f.get_json("/v1/deliveries?user_id=u1");
  CHECK(deliveries.dump().find("your cart") == std::string::npos);
}

TEST_CASE("a replay through a version whose condition differs, on an explicit period") {
  // Version 1 sends gold users straight out; version 2 (live) lets them wait.
  Fixture f("{events: 7d, max_events: 1000}", kCartGoldExits);
  auto deployed = f.client->Post("/v1/flows/cart/deploy", f.headers(), kCart, "application/yaml");
  REQUIRE(deployed);
  INFO(deployed->body);
  REQUIRE(deployed->status == 200);
  f.put_traits("g1", {{"tier", "gold"}, {"phone", "+15550101"}});
  f.put_traits("b1", {{"tier", "basic"}, {"phone", "+15550102"}});
  const int64_t t = now_ms() - 5 * 3600'000;
  f.send(json::array({event("cart_updated", "g1", t, "c1"), event("cart_updated", "b1", t, "c2")}));
  const json out = f.replay({{"from", trellis::runtime::format_rfc3339(t - 1000)},
                             {"to", trellis::runtime::format_rfc3339(t + 4 * 3600'000)},
                             {"version", 1}});
  CHECK(out["live"]["version"] == 2);
  CHECK(out["draft"]["version"] == 1);
  CHECK(messages_of(out["live"], "remind") == 2);
  CHECK(messages_of(out["draft"], "remind") == 1);
  CHECK(out["differing_users"] == 1);
  REQUIRE(out["sample"].size() == 1);
  CHECK(out["sample"][0]["user_id"] == "g1");
}

TEST_CASE("replay answers clear errors for bad bodies, unknown flows and too many events") {
  Fixture f;
  require_error(f.post_json("/v1/flows/cart/replay", json::array()), 400, "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay", {{"draft", kCartShortWait}}), 400,
                "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay", {{"last", "7d"}}), 400, "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay",
                            {{"last", "7d"}, {"draft", kCartShortWait}, {"version", 1}}),
                400, "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay", {{"last", "soon"}, {"version", 1}}), 400,
                "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay", {{"from", "2026-12-02T00:00:00Z"},
                                                      {"to", "2026-12-01T00:00:00Z"},
                                                      {"version", 1}}),
                400, "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay", {{"last", "7d"}, {"version", 9}}), 400,
                "invalid_replay");
  require_error(f.post_json("/v1/flows/cart/replay", {{"last", "7d"}, {"draft", "flow: x\n"}}), 422,
                "invalid_flow");
  require_error(f.post_json("/v1/flows/nope/replay", {{"last", "7d"}, {"version", 1}}), 404,
                "unknown_flow");
}

TEST_CASE("a replay over its event limit answers 413 before running anything") {
  Fixture f;
  const int64_t t = now_ms() - 60'000;
  f.send(json::array({event("cart_updated", "u1", t, "c1"), event("cart_updated", "u2", t, "c2"),
                      event("cart_updated", "u3", t, "c3")}));
  api::ReplayContext context;
  context.engine = &f.service->engine();
  context.limits.max_events = 2;
  api::ReplayOutcome out = api::replay("cart", {{"last", "1d"}, {"version", 1}}, context);
  CHECK(out.status == 413);
  CHECK(out.body["error"] == "replay_too_large");
  context.limits.max_events = 3;
  CHECK(api::replay("cart", {{"last", "1d"}, {"version", 1}}, context).status == 200);
}

TEST_CASE(
    "a replay while another runs answers 409 replay_running, and the slot frees when one answers") {
  Fixture f;
  const json body = {{"last", "1d"}, {"version", 1}};
  api::ReplaySlot& slot = *f.service->context().replay_slot;
  REQUIRE(slot.try_take());  // as a replay in progress holds it
  require_error(f.post_json("/v1/flows/cart/replay", body), 409, "replay_running");
  slot.release();
  f.replay(body);
  // A replay that was refused frees the slot too.
  require_error(f.post_json("/v1/flows/cart/replay", {{"last", "1d"}}), 400, "invalid_replay");
  f.replay(body);
  CHECK(slot.try_take());  // nothing holds it after the answers
}

TEST_CASE("a replay over its timer-round budget answers 422 replay_limit saying how far it got") {
  Fixture f;
  f.service->context().replay_limits.max_timer_rounds = 1;
  const int64_t t = now_ms() - 6 * 3600'000;
  // Two waits due a second apart: two timer rounds after the last event.
  f.send(json::array(
      {event("cart_updated", "u1", t, "c1"), event("cart_updated", "u2", t + 1000, "c2")}));
  auto r = f.post_json("/v1/flows/cart/replay", {{"last", "7d"}, {"version", 1}});
  require_error(r, 422, "replay_limit");
  const json out = json::parse(r->body);
  CHECK(out["limit"] == json{{"name", "timer_rounds"}, {"value", 1}});
  CHECK(out["progress"]["side"] == "live");
  CHECK(out["progress"]["events_applied"] == 2);
  f.service->context().replay_limits.max_timer_rounds = 2;
  CHECK(f.replay({{"last", "7d"}, {"version", 1}})["live"]["journeys"] == 2);
}

namespace {

// Two coupon nodes on one pool the server never loaded; the draft ends
// elsewhere, so every user's path differs and the sample shows their traces.
const char* kCoupons = R"(flow: cart
trigger: { event: cart_updated }
start: first
nodes:
  first: { type: coupon, pool: WELCOME, next: second, on_exhausted: done }
  second: { type: coupon, pool: WELCOME, next: done, on_exhausted: done }
  done: { type: exit }
)";
const char* kCouponsOtherEnd = R"(flow: cart
trigger: { event: cart_updated }
start: first
nodes:
  first: { type: coupon, pool: WELCOME, next: second, on_exhausted: end }
  second: { type: coupon, pool: WELCOME, next: end, on_exhausted: end }
  end: { type: exit }
)";

int64_t entered(const json& side, const std::string& node) {
  for (const auto& n : side["nodes"])
    if (n["node"] == node) return n["entered"];
  return 0;
}

}  // namespace

TEST_CASE("in a replay every coupon pool holds placeholder codes and never runs out") {
  Fixture f("{events: 7d, max_events: 1000}", kCoupons);
  const int64_t t = now_ms() - 3600'000;
  f.send(json::array({event("cart_updated", "u1", t, "c1"), event("cart_updated", "u2", t, "c2"),
                      event("cart_updated", "u3", t, "c3")}));
  // The server's own pool is empty: its journeys found no code.
  CHECK(f.get_json("/v1/coupons/WELCOME")["left"] == 0);
  const json out = f.replay({{"last", "1d"}, {"draft", kCouponsOtherEnd}, {"sample", 5}});
  for (const char* side : {"live", "draft"}) {
    INFO(side);
    // Six claims from two nodes on one pool for three journeys, none refused.
    CHECK(entered(out[side], "first") == 3);
    CHECK(entered(out[side], "second") == 3);
  }
  REQUIRE(out["sample"].size() == 3);
  for (const auto& user : out["sample"]) {
    for (const char* side : {"live", "draft"}) {
      REQUIRE(user[side].size() == 1);
      const json& journey = user[side][0];
      CHECK(journey["coupon_code"].get<std::string>().rfind("REPLAY-", 0) == 0);
      for (const auto& step : journey["steps"])
        CHECK(step["reason"].get<std::string>().find("exhausted") == std::string::npos);
    }
  }
  CHECK(f.get_json("/v1/coupons/WELCOME")["left"] == 0);  // the server's pool is untouched
}
