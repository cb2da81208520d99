// PUT and GET /v1/users/{id}/consent over real HTTP, and the body reader
// alone: every refused body names its field and changes nothing.
#include "api/consent.h"

#include <catch2/catch.hpp>

#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

const std::set<std::string> kKnown = {"email", "push", "sms"};

api::ConsentChange read_ok(const json& body) {
  auto read = api::read_consent_body(body, kKnown);
  if (const auto* bad = std::get_if<api::ConsentBodyError>(&read))
    FAIL(bad->field << ": " << bad->message);
  return std::get<api::ConsentChange>(read);
}

using Channels = std::vector<std::pair<std::string, bool>>;

}  // namespace

TEST_CASE("consent bodies: shorthand and wrapped forms, `all` for every channel") {
  api::ConsentChange shorthand = read_ok({{"sms", false}, {"email", true}});
  CHECK(shorthand.channels == Channels{{"email", true}, {"sms", false}});
  CHECK(shorthand.reason == "api");

  api::ConsentChange wrapped =
      read_ok({{"channels", {{"push", false}}}, {"reason", "support ticket 4411"}});
  CHECK(wrapped.channels == Channels{{"push", false}});
  CHECK(wrapped.reason == "api: support ticket 4411");

  CHECK(read_ok({{"channels", {{"sms", true}}}}).reason == "api");
  // Every channel goes first, so the named ones read as exceptions to it.
  CHECK(read_ok({{"sms", true}, {"all", false}}).channels == Channels{{"*", false}, {"sms", true}});
  CHECK(read_ok({{"*", false}}).channels == Channels{{"*", false}});
}

TEST_CASE("consent bodies: each refusal names its field") {
  json too_many = json::object();
  for (int i = 0; i < 33; ++i) too_many["c" + std::to_string(i)] = false;
  auto [body, field] = GENERATE_REF(table<json, std::string>({
      {json::array({1}), ""},
      {json("sms"), ""},
      {json::object(), ""},
      {{{"sms", "no"}}, "sms"},
      {{{"sms", 0}}, "sms"},
      {{{"sms", nullptr}}, "sms"},
      {{{"sms", {{"subscribed", false}}}}, "sms"},
      {{{"fax", false}}, "fax"},
      {{{"s m s", false}}, "s m s"},
      {{{"", false}}, ""},
      {{{"sms", false}, {"reason", "x"}}, "channels"},
      {{{"channels", true}}, "channels"},
      {{{"channels", {{"sms", "off"}}}}, "channels.sms"},
      {{{"channels", json::object()}}, "channels"},
      {{{"channels", {{"sms", false}}}, {"reason", 3}}, "reason"},
      {{{"channels", {{"sms", false}}}, {"reason", ""}}, "reason"},
      {{{"channels", {{"sms", false}}}, {"reason", std::string(201, 'x')}}, "reason"},
      {{{"channels", {{"sms", false}}}, {"reason", "a\nb"}}, "reason"},
      {{{"channels", {{"sms", false}}}, {"sms", false}}, "sms"},
      {{{"all", false}, {"*", true}}, "all"},
      {too_many, ""},
  }));
  INFO(body.dump());
  auto read = api::read_consent_body(body, kKnown);
  REQUIRE(std::holds_alternative<api::ConsentBodyError>(read));
  CHECK(std::get<api::ConsentBodyError>(read).field == field);
  CHECK_FALSE(std::get<api::ConsentBodyError>(read).message.empty());
}

TEST_CASE("consent channels are email, sms and the configured ones") {
  CHECK(api::consent_channels(nullptr) == std::set<std::string>{"email", "sms"});
  trellis::runtime::delivery::DeliveryConfig config;
  config.channels["push"].name = "push";
  CHECK(api::consent_channels(&config) == std::set<std::string>{"email", "push", "sms"});
}

TEST_CASE("PUT consent records it per channel, GET answers when and why") {
  api::testing::ServiceFixture f;
  f.start();
  auto put = f.put("/v1/users/u1/consent", R"({"sms": false, "email": true})", "application/json");
  REQUIRE(put);
  INFO(put->body);
  REQUIRE(put->status == 200);
  json answer = json::parse(put->body);
  CHECK(answer["user_id"] == "u1");
  CHECK(answer["channels"]["sms"]["subscribed"] == false);
  CHECK(answer["channels"]["sms"]["reason"] == "api");
  CHECK(answer["channels"]["email"]["subscribed"] == true);
  CHECK(answer["channels"]["sms"]["at"].get<std::string>().back() == 'Z');
  CHECK(f.get_json("/v1/users/u1/consent") == answer);

  json wrapped = {{"channels", {{"email", false}}}, {"reason", "support ticket 7"}};
  REQUIRE(f.put("/v1/users/u1/consent", wrapped.dump(), "application/json")->status == 200);
  json channels = f.get_json("/v1/users/u1/consent")["channels"];
  CHECK(channels["email"]["subscribed"] == false);
  CHECK(channels["email"]["reason"] == "api: support ticket 7");
  CHECK(channels["sms"]["subscribed"] == false);  // untouched
  CHECK(channels.size() == 2);

  REQUIRE(f.put("/v1/users/u1/consent", R"({"all": true})", "application/json")->status == 200);
  CHECK(f.get_json("/v1/users/u1/consent")["channels"]["*"]["subscribed"] == true);
}

TEST_CASE("GET consent: 404 for a user nobody knows, no channels for a known one") {
  api::testing::ServiceFixture f;
  f.start();
  require_error(f.client->Get("/v1/users/ghost/consent"), 404, "unknown_user");
  REQUIRE(f.put("/v1/users/u2", R"({"age": 30})", "application/json")->status == 200);
  CHECK(f.get_json("/v1/users/u2/consent")["channels"] == json::object());
}

TEST_CASE("a refused consent body answers 400 naming its field and changes nothing") {
  api::testing::ServiceFixture f;
  f.start();
  REQUIRE(f.put("/v1/users/u1/consent", R"({"sms": false})", "application/json")->status == 200);
  json before = f.get_json("/v1/users/u1/consent");

  auto [body, field] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"[true]", ""},
      {"{}", ""},
      {R"({"sms": true, "email": "yes"})", "email"},
      {R"({"sms": true, "fax": true})", "fax"},
      {R"({"sms": true, "reason": "moved"})", "channels"},
      {R"({"channels": {"sms": true}, "reason": 7})", "reason"},
  }));
  INFO(body);
  auto r = f.put("/v1/users/u1/consent", body, "application/json");
  require_error(r, 400, "invalid_consent");
  CHECK(json::parse(r->body)["detail"]["field"] == field);
  CHECK(f.get_json("/v1/users/u1/consent") == before);
}

TEST_CASE("consent: malformed or deep JSON is refused, reads and writes need the token") {
  api::testing::ServiceFixture f;
  api::ServiceOptions options;
  options.http.token = "tok";
  f.start(options);
  require_error(f.put("/v1/users/u1/consent", R"({"sms": false})", "application/json"), 401,
                "unauthorized");
  f.token = "tok";
  require_error(f.put("/v1/users/u1/consent", "{oops", "application/json"), 400, "bad_json");
  require_error(f.put("/v1/users/u1/consent", std::string(40, '[') + std::string(40, ']'),
                      "application/json"),
                400, "json_too_deep");
  require_error(f.client->Get("/v1/users/u1/consent"), 401, "unauthorized");
  require_error(f.client->Get("/v1/users/u1/consent", f.headers()), 404, "unknown_user");
  CHECK(f.put("/v1/users/u1/consent", R"({"sms": false})", "application/json")->status == 200);
}

TEST_CASE("consent accepts the channels of the delivery configuration") {
  api::testing::ServiceFixture f;
  auto config = std::make_shared<trellis::runtime::delivery::DeliveryConfig>();
  auto& push = config->channels["push"];
  push.name = "push";
  push.provider = "file";
  push.url = f.dir.file("push.jsonl");
  api::ServiceOptions options;
  options.delivery = config;
  f.start(options);
  auto r = f.put("/v1/users/u1/consent", R"({"push": false})", "application/json");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);
  CHECK(f.get_json("/v1/users/u1/consent")["channels"]["push"]["subscribed"] == false);
}
