// The HTTP side of governed delivery, over real HTTP on loopback: delivery
// status and reasons in /v1/deliveries, per-message counts in stats, provider
// feedback events, and simulations under the server's delivery configuration.
#include <catch2/catch.hpp>

#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

const char* kNewsFlow = R"(flow: news
trigger:
  event: signup
start: mail
nodes:
  mail: {type: email, subject: "News", body: "Hello", next: text}
  text: {type: sms, text: "Hi", next: done}
  done: {type: exit}
)";

const char* kContact = R"({"email": "a@example.com", "phone": "+15550100"})";

json signup(const std::string& id, const std::string& user) {
  return {{"id", id}, {"type", "signup"}, {"user_id", user}};
}

json feedback(const std::string& type, const json& properties) {
  return {{"id", "f-" + properties.dump()}, {"type", type}, {"properties", properties}};
}

struct NewsFixture : api::testing::ServiceFixture {
  NewsFixture() {
    add_flow("news.yaml", kNewsFlow);
    start();
  }
};

}  // namespace

TEST_CASE("deliveries carry status, category, priority and attempts; ?status= filters") {
  NewsFixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);

  json deliveries = f.get_json("/v1/deliveries?user=u1")["deliveries"];
  REQUIRE(deliveries.size() == 2);
  CHECK(deliveries[0]["status"] == "pending");
  CHECK(deliveries[0]["category"] == "marketing");
  CHECK(deliveries[0]["priority"] == 50);
  CHECK(deliveries[0]["attempts"] == 0);
  CHECK_FALSE(deliveries[0].contains("reason"));

  CHECK(f.get_json("/v1/deliveries?status=pending")["deliveries"].size() == 2);
  CHECK(f.get_json("/v1/deliveries?status=pending&limit=1")["deliveries"].size() == 1);
  CHECK(f.get_json("/v1/deliveries?status=suppressed")["deliveries"].empty());
  require_error(f.client->Get("/v1/deliveries?status=lost"), 400, "bad_status");
}

TEST_CASE("flow stats list every message node's counts") {
  NewsFixture f;
  json stats = f.get_json("/v1/flows/news/stats");
  REQUIRE(stats["messages"].is_array());
}

TEST_CASE("feedback events may omit the user but must name their delivery") {
  NewsFixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  json deliveries = f.get_json("/v1/deliveries?user=u1")["deliveries"];
  REQUIRE(deliveries.size() == 2);
  int64_t mail_id = deliveries[0]["id"];
  std::string text_key = deliveries[1]["key"];

  auto by_id = f.post_json("/v1/events", feedback("message_delivered", {{"delivery_id", mail_id}}));
  REQUIRE(by_id);
  INFO(by_id->body);
  CHECK(by_id->status == 202);
  CHECK(f.post_json("/v1/events", feedback("message_opened", {{"key", text_key}}))->status == 202);
  CHECK(f.post_json("/v1/events",
                    feedback("message_clicked", {{"delivery_id", std::to_string(mail_id)}}))
            ->status == 202);

  auto [type, properties, field] = GENERATE(table<std::string, json, std::string>({
      {"message_bounced", json::object(), "properties.delivery_id"},
      {"message_bounced", {{"delivery_id", nullptr}}, "properties.delivery_id"},
      {"message_complained", {{"delivery_id", true}}, "properties.delivery_id"},
      {"message_delivered", {{"delivery_id", -3}}, "properties.delivery_id"},
      {"message_delivered", {{"delivery_id", 1.5}}, "properties.delivery_id"},
      {"message_opened", {{"delivery_id", "abc"}}, "properties.delivery_id"},
      {"message_clicked", {{"key", 7}}, "properties.key"},
      {"message_clicked", {{"key", ""}}, "properties.key"},
  }));
  INFO(type << " " << properties.dump());
  // In a batch with a good event: all or nothing.
  json batch = json::array({signup("e2", "u2"), feedback(type, properties)});
  auto r = f.post_json("/v1/events", batch);
  require_error(r, 400, "invalid_event");
  CHECK(json::parse(r->body)["detail"].get<std::string>().find(field) != std::string::npos);
  require_error(f.client->Get("/v1/users/u2/journeys"), 404, "unknown_user");
}

TEST_CASE("events other than feedback still need a user id") {
  NewsFixture f;
  auto r = f.post_json("/v1/events", {{"type", "signup"}, {"properties", {{"delivery_id", 1}}}});
  require_error(r, 400, "invalid_event");
  CHECK(json::parse(r->body)["detail"] == "missing user id");
}

TEST_CASE("simulate reads per-user consent and refuses a bad one naming its field") {
  NewsFixture f;
  json request = {{"flow", "news"},
                  {"users", {{"u1", json::parse(kContact)}}},
                  {"consent", {{"u1", {{"sms", "no"}}}}},
                  {"events", {{{"at", "0s"}, {"type", "signup"}, {"user", "u1"}}}}};
  auto r = f.post_json("/v1/simulate", request);
  require_error(r, 400, "invalid_simulation");
  CHECK(json::parse(r->body)["detail"].get<std::string>().rfind("consent.u1.sms:", 0) == 0);
  request["consent"] = json::array();
  require_error(f.post_json("/v1/simulate", request), 400, "invalid_simulation");
}

TEST_CASE("simulate reports each delivery's status and offset") {
  NewsFixture f;
  json request = {{"flow", "news"},
                  {"users", {{"u1", json::parse(kContact)}}},
                  {"events", {{{"at", "5m"}, {"type", "signup"}, {"user", "u1"}}}}};
  auto r = f.post_json("/v1/simulate", request);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  json deliveries = json::parse(r->body)["deliveries"];
  REQUIRE(deliveries.size() == 2);
  CHECK(deliveries[0]["offset"] == "5m");
  CHECK(deliveries[0]["status"] == "pending");
  CHECK_FALSE(deliveries[0].contains("attempts"));
}
