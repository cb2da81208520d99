// The flow lifecycle and version endpoints through real HTTP on loopback,
// against a real SQLite file (docs/http-api.md#flow-lifecycle,
// #versions-history-and-rollback, #migrating-waiting-journeys): pause,
// resume, stop and archive with the count of journeys touched; versions with
// their authors, a diff in words, rollback; a migration previewed then applied.
#include <catch2/catch.hpp>

#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

const char* kCart = R"(flow: cart
trigger: { event: cart_updated }
start: pick
nodes:
  pick: { type: segment, match: user.tier == "gold", yes: wait_gold, no: wait_pay }
  wait_gold: { type: wait, for: 2h, next: done }
  wait_pay: { type: wait, until_event: checkout, for: 24h, on_event: done, next: done }
  done: { type: exit }
)";

// Version 2: wait_pay is gone (replaced by pay_soon, a shorter event wait),
// wait_gold waits longer, and an SMS joins.
const char* kCartV2 = R"(flow: cart
trigger: { event: cart_updated }
start: pick
nodes:
  pick: { type: segment, match: user.tier == "vip", yes: wait_gold, no: pay_soon }
  wait_gold: { type: wait, for: 3h, next: sms_c }
  pay_soon: { type: wait, until_event: checkout, for: 12h, on_event: done, next: done }
  sms_c: { type: sms, text: "hi", next: done }
  done: { type: exit }
)";

struct Fixture : api::testing::ServiceFixture {
  Fixture() {
    add_flow("cart.yaml", kCart);
    api::ServiceOptions options;
    options.http.tokens = {
        {"alice", api::kScopeRead | api::kScopeWrite | api::kScopeAdmin, "s-alice"},
        {"writer", api::kScopeRead | api::kScopeWrite, "s-writer"}};
    token = "s-alice";
    start(options);
  }

  void start_journeys(int gold, int others) {
    json events = json::array();
    for (int i = 0; i < gold + others; ++i) {
      const std::string user = "u" + std::to_string(i);
      put_traits(user, {{"tier", i < gold ? "gold" : "basic"}});
      events.push_back({{"type", "cart_updated"}, {"user_id", user}, {"id", "e" + user}});
    }
    send_events(events);
  }

  json post_ok(const std::string& path, const json& body = json::object()) {
    return ServiceFixture::post_ok(path, body);
  }
};

std::vector<std::string> texts(const json& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c["text"]);
  return out;
}

}  // namespace

TEST_CASE("pause, resume, stop and archive answer how many journeys they touched") {
  Fixture f;
  f.start_journeys(1, 2);
  json paused = f.post_ok("/v1/flows/cart/pause", {{"reason", "wrong coupon"}});
  CHECK(paused["state"] == "paused");
  CHECK(paused["was"] == "active");
  CHECK(paused["journeys"] == 3);
  CHECK(paused["by"] == "alice");
  require_error(f.post_json("/v1/flows/cart/pause", json::object()), 409, "bad_state");
  require_error(f.post_json("/v1/flows/nope/pause", json::object()), 404, "unknown_flow");
  require_error(f.post_json("/v1/flows/cart/resume", {{"timers", "later"}}), 400, "bad_body");

  // The trace says who paused it and why.
  json journeys = f.get_json("/v1/users/u0/journeys")["journeys"];
  REQUIRE(journeys.size() == 1);
  json trace = f.get_json("/v1/journeys/" + journeys[0]["id"].get<std::string>())["steps"];
  CHECK(trace.back()["input"] == "pause");
  CHECK(trace.back()["reason"] == "flow paused by alice: wrong coupon");

  // The write scope is enough; the author header joins the token's name.
  f.token = "s-writer";
  httplib::Headers headers = f.headers();
  headers.emplace("X-Trellis-Author", "Bob");
  auto resumed = f.client->Post("/v1/flows/cart/resume", headers, "", "application/json");
  REQUIRE(resumed->status == 200);
  CHECK(json::parse(resumed->body)["by"] == "writer (Bob)");
  f.token = "s-alice";

  json stopped = f.post_ok("/v1/flows/cart/stop");
  CHECK(stopped["journeys"] == 3);
  CHECK(f.get_json("/v1/flows/cart/stats")["live"] == 0);
  trace = f.get_json("/v1/journeys/" + journeys[0]["id"].get<std::string>())["steps"];
  CHECK(trace.back()["input"] == "stop");
  CHECK(trace.back()["reason"] == "flow stopped by alice");

  json archived = f.post_ok("/v1/flows/cart/archive");
  CHECK(archived["was"] == "stopped");
  CHECK(f.get_json("/v1/flows")["flows"].empty());
  json all = f.get_json("/v1/flows?archived=true")["flows"];
  REQUIRE(all.size() == 1);
  CHECK(all[0]["state"] == "archived");
  CHECK(f.get_json("/v1/flows/cart/versions")["state"] == "archived");
}

TEST_CASE("versions keep their authors, the diff reads in words, rollback deploys an old text") {
  Fixture f;
  auto deployed = f.client->Post("/v1/flows/cart/deploy", f.headers(), kCartV2, "application/yaml");
  REQUIRE(deployed->status == 200);
  json versions = f.get_json("/v1/flows/cart/versions");
  CHECK(versions["current"] == 2);
  REQUIRE(versions["versions"].size() == 2);
  CHECK(versions["versions"][0]["version"] == 2);
  CHECK(versions["versions"][0]["author"] == "alice");
  CHECK(versions["versions"][1]["author"] == "flows folder");

  auto text = f.client->Get("/v1/flows/cart/versions/1", f.headers());
  REQUIRE(text->status == 200);
  CHECK(text->body.find("wait_pay") != std::string::npos);
  require_error(f.client->Get("/v1/flows/cart/versions/9", f.headers()), 404, "unknown_version");

  json diff = f.get_json("/v1/flows/cart/diff?from=1&to=2");
  CHECK(diff["from"] == 1);
  CHECK(diff["to"] == 2);
  auto words = texts(diff["changes"]);
  CHECK_THAT(words, Catch::Matchers::VectorContains(std::string(
                        "node `pick`: condition changed from \"user.tier == \"gold\"\" to "
                        "\"user.tier == \"vip\"\"")));
  CHECK_THAT(words, Catch::Matchers::VectorContains(std::string("node `sms_c` added (SMS)")));
  CHECK_THAT(words, Catch::Matchers::VectorContains(std::string("node `wait_pay` removed (Wait)")));
  CHECK_THAT(words, Catch::Matchers::VectorContains(
                        std::string("node `wait_gold`: wait time changed from \"2h\" to \"3h\"")));
  // Without `from`: against the version before.
  CHECK(f.get_json("/v1/flows/cart/diff")["changes"].size() == diff["changes"].size());

  json rolled = f.post_ok("/v1/flows/cart/rollback", {{"version", 1}});
  CHECK(rolled["version"] == 3);
  CHECK(rolled["changed"] == true);
  CHECK(f.get_json("/v1/flows/cart/diff?from=1&to=3")["changes"].empty());
  // The flows folder holds the rolled-back text, so a restart keeps it.
  CHECK(api::testing::read_file(f.dir.file("flows/cart.yaml")).find("wait_pay") !=
        std::string::npos);
  f.token = "s-writer";
  require_error(f.post_json("/v1/flows/cart/rollback", {{"version", 2}}), 403, "forbidden");
}

TEST_CASE("a migration is previewed, then applied in batches with a step in each trace") {
  Fixture f;
  f.start_journeys(2, 3);  // 2 wait at wait_gold (timer), 3 at wait_pay (event)
  auto deployed = f.client->Post("/v1/flows/cart/deploy", f.headers(), kCartV2, "application/yaml");
  REQUIRE(deployed->status == 200);

  // Unmapped: wait_gold keeps its id; wait_pay is gone.
  json preview = f.post_ok("/v1/flows/cart/migrate", {{"from", 1}});
  CHECK(preview["dry_run"] == true);
  CHECK(preview["to"] == 2);
  REQUIRE(preview["moves"].size() == 1);
  CHECK(preview["moves"][0] ==
        json({{"from_node", "wait_gold"}, {"to_node", "wait_gold"}, {"journeys", 2}}));
  REQUIRE(preview["blocked"].size() == 1);
  CHECK(preview["blocked"][0]["node"] == "wait_pay");
  CHECK(preview["blocked"][0]["journeys"] == 3);
  CHECK(preview["blocked"][0]["reason"] ==
        "node `wait_pay` is gone in version 2: map it to a wait");

  // A timer wait cannot take journeys that wait for an event.
  json wrong =
      f.post_ok("/v1/flows/cart/migrate", {{"from", 1}, {"map", {{"wait_pay", "wait_gold"}}}});
  CHECK(wrong["blocked"][0]["reason"] ==
        "node `wait_gold` waits on a timer, the journeys wait for an event");
  require_error(f.post_json("/v1/flows/cart/migrate", {{"from", 1}, {"map", {{"nope", "x"}}}}), 422,
                "bad_migration");
  require_error(f.post_json("/v1/flows/cart/migrate", json::object()), 400, "bad_body");

  // The preview changed nothing.
  json before = f.get_json("/v1/users/u0/journeys")["journeys"][0];
  CHECK(before["version"] == 1);

  json applied = f.post_ok("/v1/flows/cart/migrate",
                           {{"from", 1}, {"map", {{"wait_pay", "pay_soon"}}}, {"dry_run", false}});
  CHECK(applied["moved"] == 5);
  CHECK(applied["blocked"].empty());
  json gold = f.get_json("/v1/users/u0/journeys")["journeys"][0];
  CHECK(gold["version"] == 2);
  CHECK(gold["node"] == "wait_gold");
  json trace = f.get_json("/v1/journeys/" + gold["id"].get<std::string>())["steps"];
  CHECK(trace.back()["input"] == "migrate");
  CHECK(trace.back()["reason"].get<std::string>().find(
            "migrated by alice from version 1 node `wait_gold` to version 2 node `wait_gold`; "
            "timer due ") == 0);
  json payer = f.get_json("/v1/users/u4/journeys")["journeys"][0];
  CHECK(payer["node"] == "pay_soon");
  CHECK(payer["waiting_for"] == "checkout");
  // Nothing is left on version 1.
  CHECK(f.post_ok("/v1/flows/cart/migrate", {{"from", 1}})["moves"].empty());
  // The moved journeys go on in version 2: checkout ends the payer's wait.
  REQUIRE(
      f.post_json("/v1/events", json::array({{{"type", "checkout"}, {"user_id", "u4"}}}))->status ==
      202);
  CHECK(f.get_json("/v1/users/u4/journeys")["journeys"][0]["state"] == "completed");
}
