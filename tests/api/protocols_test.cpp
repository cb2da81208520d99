// The producers' protocols through real HTTP on loopback against a real
// SQLite file: Segment's Tracking API (/v1/batch and the single calls, write
// key, per-element answers, messageId idempotency) and CloudEvents in binary,
// structured and batched modes on /v1/events. docs/events.md documents them.
#include <catch2/catch.hpp>

#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

// A flow on Segment's event name (with a space), reading the call's context.
const char* kOrderFlow = R"(flow: order_thanks
trigger:
  event: Order Completed
start: where
nodes:
  where:
    type: segment
    match: event.context.timezone == "Europe/Paris"
    yes: paris
    no: elsewhere
  paris: {type: exit}
  elsewhere: {type: exit}
)";

const char* kPageFlow = R"(flow: page_seen
trigger:
  event: page
  when: event.name == "Pricing"
start: done
nodes:
  done: {type: exit}
)";

struct Fixture : api::testing::ServiceFixture {
  explicit Fixture(std::string server_token = "") {
    add_flow("order_thanks.yaml", kOrderFlow);
    add_flow("page_seen.yaml", kPageFlow);
    api::ServiceOptions options;
    options.http.token = std::move(server_token);
    start(options);
  }
  httplib::Result post(const std::string& path, const json& body,
                       const httplib::Headers& extra = {}) {
    return client->Post(path.c_str(), extra, body.dump(), "application/json");
  }
  json journeys(const std::string& user) {
    return get_json("/v1/users/" + user + "/journeys")["journeys"];
  }
};

json track(const std::string& id, const std::string& user, const std::string& tz = "UTC") {
  return {{"type", "track"},
          {"event", "Order Completed"},
          {"userId", user},
          {"messageId", id},
          {"timestamp", "2026-11-23T10:00:00.000Z"},
          {"context", {{"timezone", tz}}},
          {"properties", {{"total", 10}}}};
}

json batch(json calls) {
  return {{"batch", std::move(calls)}, {"sentAt", "2026-11-23T10:00:01.000Z"}, {"writeKey", "k"}};
}

}  // namespace

TEST_CASE("a Segment batch starts journeys, reads context, and answers success") {
  Fixture f;
  auto r =
      f.post("/v1/batch",
             batch({track("m1", "u1", "Europe/Paris"),
                    track("m2", "u2"),
                    {{"type", "page"}, {"userId", "u1"}, {"name", "Pricing"}, {"messageId", "m3"}},
                    {{"type", "identify"}, {"userId", "u1"}, {"traits", {{"plan", "pro"}}}},
                    {{"type", "alias"}, {"userId", "u1"}, {"previousId", "anon-1"}}}));
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  json body = json::parse(r->body);
  CHECK(body["success"] == true);
  CHECK(body["accepted"] == 5);
  json u1 = f.journeys("u1");
  REQUIRE(u1.size() == 2);
  std::map<std::string, std::string> node_of;
  for (const auto& j : u1) node_of[j["flow"]] = j["node"];
  CHECK(node_of["order_thanks"] == "paris");  // event.context.timezone
  CHECK(node_of["page_seen"] == "done");      // event.name of a page call
  CHECK(f.journeys("u2")[0]["node"] == "elsewhere");
  CHECK(f.get_json("/v1/users/u1")["traits"]["plan"] == "pro");
}

TEST_CASE("messageId makes a resent batch a duplicate") {
  Fixture f;
  json calls = batch({track("m1", "u1"), track("m2", "u2")});
  REQUIRE(f.post("/v1/batch", calls)->status == 200);
  auto again = f.post("/v1/batch", calls);
  REQUIRE(again->status == 200);
  json body = json::parse(again->body);
  CHECK(body["accepted"] == 0);
  CHECK(body["duplicates"] == 2);
  CHECK(f.journeys("u1").size() == 1);
}

TEST_CASE("a batch with bad elements applies the good ones and names the bad by index") {
  Fixture f;
  auto r = f.post("/v1/batch", batch({track("m1", "u1"),
                                      {{"type", "track"}, {"userId", "u2"}},
                                      {{"type", "track"}, {"event", "x"}},
                                      track("m4", "u4")}));
  REQUIRE(r);
  INFO(r->body);
  // 400: the SDKs drop it rather than retry; the good elements are already in.
  CHECK(r->status == 400);
  json body = json::parse(r->body);
  CHECK(body["success"] == false);
  CHECK(body["accepted"] == 2);
  CHECK(body["error"] == "invalid_event");
  REQUIRE(body["errors"].size() == 2);
  CHECK(body["errors"][0] == json{{"index", 1}, {"message", "Segment track without `event`"}});
  CHECK(body["errors"][1] == json{{"index", 2}, {"message", "missing user id"}});
  CHECK(f.journeys("u1").size() == 1);
  CHECK(f.journeys("u4").size() == 1);
  require_error(f.post("/v1/batch", json{{"batch", json::array()}}), 400, "invalid_event");
  require_error(f.client->Post("/v1/batch", "{nope", "application/json"), 400, "invalid_event");
}

TEST_CASE("single Segment calls take their type from the path") {
  Fixture f;
  auto r = f.post("/v1/track", {{"userId", "u1"}, {"event", "Order Completed"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(f.post("/v1/identify", {{"anonymousId", "a1"}, {"traits", {{"x", 1}}}})->status == 200);
  CHECK(f.get_json("/v1/users/a1")["traits"]["x"] == 1);
  CHECK(f.post("/v1/page", {{"userId", "u3"}, {"name", "Pricing"}})->status == 200);
  CHECK(f.journeys("u3")[0]["flow"] == "page_seen");
  CHECK(f.post("/v1/screen", {{"userId", "u3"}, {"name", "Cart"}})->status == 200);
  CHECK(f.post("/v1/group", {{"userId", "u3"}, {"groupId", "g"}})->status == 200);
  CHECK(f.post("/v1/alias", {{"userId", "u3"}, {"previousId", "a1"}})->status == 200);
  // The alias merged the visitor into u3: its traits are u3's now.
  CHECK(f.get_json("/v1/users/u3")["traits"]["x"] == 1);
  auto bad = f.post("/v1/alias", {{"userId", "u3"}});
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(json::parse(bad->body)["errors"][0]["message"] == "Segment alias without `previousId`");
}

TEST_CASE("the write key is a token with the write scope, from Basic auth, bearer or the body") {
  api::testing::ServiceFixture f;
  f.add_flow("order_thanks.yaml", kOrderFlow);
  api::ServiceOptions options;
  options.http.tokens = {{"shop", api::kScopeWrite, "s3cret-write-key-0001"},
                         {"analyst", api::kScopeRead, "s3cret-read-key-00001"}};
  f.start(options);
  auto post = [&](const json& body, const httplib::Headers& headers = {}) {
    return f.client->Post("/v1/batch", headers, body.dump(), "application/json");
  };
  json body = batch({track("m1", "u1")});
  body.erase("writeKey");
  require_error(post(body), 401, "unauthorized");
  // Basic auth with the write key as user name and no password.
  auto basic = [](const std::string& base64_key_and_colon) {
    return httplib::Headers{{"Authorization", "Basic " + base64_key_and_colon}};
  };
  CHECK(post(body, basic("czNjcmV0LXdyaXRlLWtleS0wMDAxOg=="))->status ==
        200);                                                         // "s3cret-write-key-0001:"
  require_error(post(body, basic("d3Jvbmc6")), 401, "unauthorized");  // "wrong:"
  require_error(post(body, basic("czNjcmV0LXJlYWQta2V5LTAwMDAxOg==")), 403,  // the read-only key
                "forbidden");
  body["writeKey"] = "s3cret-write-key-0001";
  CHECK(post(body)->status == 200);
  body["writeKey"] = "wrong";
  require_error(post(body), 401, "unauthorized");
  CHECK(f.client
            ->Post("/v1/track", {{"Authorization", "Bearer s3cret-write-key-0001"}},
                   json{{"userId", "u9"}, {"event", "x"}}.dump(), "application/json")
            ->status == 200);
}

TEST_CASE("CloudEvents in binary, structured and batched modes on /v1/events") {
  Fixture f;
  httplib::Headers binary = {{"ce-specversion", "1.0"},
                             {"ce-id", "c1"},
                             {"ce-type", "Order Completed"},
                             {"ce-source", "/shop"},
                             {"ce-subject", "u1"}};
  auto r = f.client->Post("/v1/events", binary, R"({"total": 3})", "application/json");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 202);
  CHECK(json::parse(r->body)["accepted"] == 1);
  auto again = f.client->Post("/v1/events", binary, R"({"total": 3})", "application/json");
  CHECK(json::parse(again->body)["duplicates"] == 1);
  CHECK(f.journeys("u1").size() == 1);

  json structured = {{"specversion", "1.0"}, {"id", "c2"},     {"type", "Order Completed"},
                     {"source", "/shop"},    {"userid", "u2"}, {"data", {{"total", 1}}}};
  auto s = f.client->Post("/v1/events", structured.dump(), "application/cloudevents+json");
  CHECK(s->status == 202);
  CHECK(f.journeys("u2").size() == 1);

  structured["id"] = "c3";
  structured["userid"] = "u3";
  json second = structured;
  second["id"] = "c4";
  second["userid"] = "u4";
  auto b = f.client->Post("/v1/events", json::array({structured, second}).dump(),
                          "application/cloudevents-batch+json");
  CHECK(b->status == 202);
  CHECK(json::parse(b->body)["accepted"] == 2);
  CHECK(f.journeys("u4").size() == 1);

  binary.erase("ce-subject");
  require_error(f.client->Post("/v1/events", binary, "{}", "application/json"), 400,
                "invalid_event");
}

TEST_CASE(
    "identity over /v1/events: the Trellis form's identify merges the visitor and later events of its id are the user's") {
  Fixture f;
  auto events = [&](const json& body) {
    auto r = f.post("/v1/events", body);
    REQUIRE(r);
    CHECK(r->status == 202);
  };
  events({{"type", "page"}, {"user_id", "a9"}, {"properties", {{"name", "Pricing"}}}});
  REQUIRE(f.journeys("a9").size() == 1);
  events({{"type", "identify"},
          {"user_id", "u9"},
          {"anonymous_id", "a9"},
          {"properties", {{"plan", "pro"}}}});
  // The visitor's id now holds nothing: 404, saying whom it was merged into.
  json gone = f.get_json("/v1/users/a9/journeys", 404);
  CHECK(gone["error"] == "merged_user");
  CHECK(gone["detail"] == "user a9 was merged into u9");
  REQUIRE(f.journeys("u9").size() == 1);
  CHECK(f.journeys("u9")[0]["flow"] == "page_seen");
  events({{"type", "Order Completed"}, {"user_id", "a9"}});
  json mine = f.journeys("u9");
  REQUIRE(mine.size() == 2);
  CHECK(mine[1]["flow"] == "order_thanks");
  f.get_json("/v1/users/a9/journeys", 404);
  CHECK(f.get_json("/v1/users/u9")["traits"]["plan"] == "pro");
}
