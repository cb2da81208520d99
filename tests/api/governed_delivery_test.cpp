// The HTTP side of governed delivery, over real HTTP on loopback: delivery
// status and reasons in /v1/deliveries, per-message counts in stats, provider
// feedback events, and simulations under the server's delivery configuration.
#include <catch2/catch.hpp>
#include <optional>

#include "api/ingest.h"
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

namespace delivery = trellis::runtime::delivery;

// Delivery rules for a test: quiet hours for sms from 21:00 to 09:00 UTC, caps.
struct Rules {
  bool quiet_sms = false;
  std::vector<delivery::CapRule> caps;
};

std::shared_ptr<delivery::DeliveryConfig> delivery_config(const Rules& rules,
                                                          const std::string& dir) {
  auto config = std::make_shared<delivery::DeliveryConfig>();
  auto& sms = config->channels["sms"];
  sms.name = "sms";
  sms.provider = "file";
  sms.url = dir + "/sms.jsonl";
  if (rules.quiet_sms)
    sms.quiet_hours = delivery::QuietHours{21 * 60, 9 * 60, 30 * 60 * 1000, "21:00-09:00"};
  config->caps = rules.caps;
  return config;
}

// The news flow deployed, under `rules` when given.
struct NewsFixture : api::testing::ServiceFixture {
  explicit NewsFixture(std::optional<Rules> rules = std::nullopt) {
    add_flow("news.yaml", kNewsFlow);
    api::ServiceOptions options;
    if (rules) options.delivery = delivery_config(*rules, dir.path());
    start(options);
  }
};

// The delivery of `channel` in a /v1/deliveries or simulate list.
json delivery_of(const json& deliveries, const std::string& user, const std::string& channel) {
  for (const auto& d : deliveries)
    if (d["user_id"] == user && d["channel"] == channel) return d;
  FAIL("no " << channel << " delivery for " << user << " in " << deliveries.dump());
  return {};
}

// The counts of `node` in a stats answer's `messages`.
json message_counts(const json& stats, const std::string& node) {
  for (const auto& m : stats["messages"])
    if (m["node"] == node) return m;
  FAIL("no message counts for " << node << " in " << stats.dump());
  return {};
}

}  // namespace

TEST_CASE("deliveries carry status, category, priority and attempts, ?status= filters") {
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

TEST_CASE("a message without consent is suppressed: status, reason, filter and stats show it") {
  NewsFixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.put("/v1/users/u1/consent", R"({"sms": false})", "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);

  json deliveries = f.get_json("/v1/deliveries?user=u1")["deliveries"];
  json text = delivery_of(deliveries, "u1", "sms");
  CHECK(text["status"] == "suppressed");
  CHECK(text["reason"].get<std::string>().find("unsubscribed from sms") != std::string::npos);
  CHECK(text["reason"].get<std::string>().find("(api)") != std::string::npos);
  CHECK_FALSE(text.contains("release_at"));
  CHECK(delivery_of(deliveries, "u1", "email")["status"] == "pending");

  json suppressed = f.get_json("/v1/deliveries?status=suppressed")["deliveries"];
  REQUIRE(suppressed.size() == 1);
  CHECK(suppressed[0]["id"] == text["id"]);

  json stats = f.get_json("/v1/flows/news/stats");
  REQUIRE(stats["messages"].size() == 2);
  json sms = message_counts(stats, "text");
  CHECK(sms["channel"] == "sms");
  CHECK(sms["created"] == 1);
  CHECK(sms["suppressed"] == 1);
  CHECK(sms["sent"] == 0);
  CHECK(message_counts(stats, "mail")["created"] == 1);

  std::string metrics = f.client->Get("/metrics")->body;
  CHECK(metrics.find("trellis_delivery_verdicts_total{verdict=\"suppressed\"} 1\n") !=
        std::string::npos);
  CHECK(metrics.find("trellis_delivery_verdicts_total{verdict=\"deferred\"} 0\n") !=
        std::string::npos);
}

TEST_CASE("consent to nothing but email: `all` off, then the named channel on") {
  NewsFixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.put("/v1/users/u1/consent", R"({"all": false, "email": true})", "application/json")
              ->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  json deliveries = f.get_json("/v1/deliveries?user=u1")["deliveries"];
  CHECK(delivery_of(deliveries, "u1", "email")["status"] == "pending");
  json text = delivery_of(deliveries, "u1", "sms");
  CHECK(text["status"] == "suppressed");
  CHECK(text["reason"].get<std::string>().find("every channel") != std::string::npos);
}

TEST_CASE("a capped message is deferred with its release time and reason") {
  // One message a day on any channel: the email goes, the sms waits a day.
  NewsFixture f(Rules{false, {{"", 1, 24 * 3600 * 1000LL, "any 1/1d", {}}}});
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);

  json text = delivery_of(f.get_json("/v1/deliveries?user=u1")["deliveries"], "u1", "sms");
  CHECK(text["status"] == "deferred");
  CHECK(text["reason"].get<std::string>().find("any 1/1d") != std::string::npos);
  REQUIRE(text.contains("release_at"));
  CHECK(text["release_at"] > text["at"]);
  CHECK(f.get_json("/v1/deliveries?status=deferred")["deliveries"].size() == 1);
  CHECK(message_counts(f.get_json("/v1/flows/news/stats"), "text")["deferred"] == 1);
  CHECK(f.client->Get("/metrics")
            ->body.find("trellis_delivery_verdicts_total{verdict=\"deferred\"} 1\n") !=
        std::string::npos);
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

TEST_CASE("feedback is recorded on its delivery, feedback on no known delivery changes nothing") {
  NewsFixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  json mail = delivery_of(f.get_json("/v1/deliveries?user=u1")["deliveries"], "u1", "email");

  json unknown =
      json::array({signup("e2", "u2"), feedback("message_delivered", {{"delivery_id", 999}})});
  auto r = f.post_json("/v1/events", unknown);
  require_error(r, 400, "invalid_event");
  CHECK(json::parse(r->body)["detail"] == "event 1: message_delivered: no delivery 999");
  require_error(f.client->Get("/v1/users/u2/journeys"), 404, "unknown_user");

  json bounce = feedback("message_bounced", {{"delivery_id", mail["id"]}, {"bounce_type", "hard"}});
  REQUIRE(f.post_json("/v1/events", bounce)->status == 202);
  mail = delivery_of(f.get_json("/v1/deliveries?user=u1")["deliveries"], "u1", "email");
  CHECK(mail["feedback"] == "bounced hard");
  CHECK(mail.contains("feedback_at"));
  CHECK(message_counts(f.get_json("/v1/flows/news/stats"), "mail")["bounced"] == 1);
  json email = f.get_json("/v1/users/u1/consent")["channels"]["email"];
  CHECK(email["subscribed"] == false);
  CHECK(email["reason"].get<std::string>().find("hard bounce") != std::string::npos);
}

TEST_CASE("on the stream, feedback naming no delivery is poison and the rest is applied") {
  NewsFixture f;
  api::MetricsRegistry metrics;
  api::Ingest ingest(f.service->engine(), metrics);
  auto outcomes =
      ingest.apply({{"events/1-0", feedback("message_opened", {{"delivery_id", 999}}).dump()},
                    {"events/2-0", signup("e1", "u1").dump()}});
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].verdict == api::SinkVerdict::kPoison);
  CHECK(outcomes[0].error == "message_opened: no delivery 999");
  CHECK(outcomes[1].verdict == api::SinkVerdict::kApplied);
  CHECK(f.get_json("/v1/users/u1/journeys")["journeys"].size() == 1);
  CHECK(metrics.render().find(
            R"(trellis_ingest_rejected_total{source="redis",reason="refused"} 1)") !=
        std::string::npos);
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

TEST_CASE("simulate runs under the server's delivery configuration and the request's consent") {
  NewsFixture f(Rules{true, {}});
  json contact = json::parse(kContact);
  json request = {{"flow", "news"},
                  {"users", {{"u1", contact}, {"u2", contact}}},
                  {"consent", {{"u2", {{"sms", false}}}}},
                  {"events",
                   {{{"at", "0s"}, {"type", "signup"}, {"user", "u1"}},
                    {{"at", "0s"}, {"type", "signup"}, {"user", "u2"}}}}};
  auto r = f.post_json("/v1/simulate", request);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  json out = json::parse(r->body);

  // The simulation starts at midnight UTC, inside quiet hours: the sms waits
  // for 09:00 (plus its spread), then goes.
  json quiet = delivery_of(out["deliveries"], "u1", "sms");
  CHECK(quiet["status"] == "pending");
  CHECK(quiet["offset"] == "0s");
  CHECK(quiet["release_offset"].get<std::string>().rfind("9h", 0) == 0);
  CHECK(delivery_of(out["deliveries"], "u1", "email")["status"] == "pending");

  json suppressed = delivery_of(out["deliveries"], "u2", "sms");
  CHECK(suppressed["status"] == "suppressed");
  CHECK(suppressed["reason"].get<std::string>().find("unsubscribed from sms") != std::string::npos);

  // The trace says why: the deferral at the node, the release later.
  bool deferred_step = false, release_step = false;
  for (const auto& journey : out["journeys"]) {
    if (journey["user_id"] != "u1") continue;
    for (const auto& step : journey["steps"]) {
      std::string reason = step["reason"];
      if (step["node"] == "text" && reason.find("deferred until") != std::string::npos)
        deferred_step = true;
      if (step["input"] == "release") release_step = true;
    }
  }
  CHECK(deferred_step);
  CHECK(release_step);
}

TEST_CASE("simulate applies feedback on its own deliveries and refuses feedback on none") {
  NewsFixture f;
  json request = {{"flow", "news"},
                  {"users", {{"u1", json::parse(kContact)}}},
                  {"events",
                   {{{"at", "0s"}, {"type", "signup"}, {"user", "u1"}},
                    {{"at", "1m"}, {"type", "message_bounced"}, {"delivery_id", 1}}}}};
  auto r = f.post_json("/v1/simulate", request);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  json mail = delivery_of(json::parse(r->body)["deliveries"], "u1", "email");
  CHECK(mail["feedback"].get<std::string>().rfind("bounced", 0) == 0);

  request["events"][1]["delivery_id"] = 999;
  auto refused = f.post_json("/v1/simulate", request);
  require_error(refused, 400, "invalid_simulation");
  CHECK(json::parse(refused->body)["detail"].get<std::string>().find("no delivery 999") !=
        std::string::npos);
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
