// Named tokens with scopes on every route class, the caller's name in the
// handler and the access log, the tokens file, public journey ids and the
// refusal to listen beyond loopback without a token.
#include "api/access.h"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "api/journey_ids.h"
#include "runtime/store_url.h"
#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using api::testing::TempDir;
using api::testing::write_file;
using nlohmann::json;

namespace {

const char* kFlowYaml = R"(flow: welcome
trigger:
  event: signup
start: hello
nodes:
  hello:
    type: email
    subject: "Welcome"
    body: "Hi"
    next: done
  done:
    type: exit
)";

const std::string kReader = "reader-secret-0123456789";
const std::string kWriter = "writer-secret-0123456789";
const std::string kAdmin = "admin-secret-0123456789a";

struct Fixture : api::testing::ServiceFixture {
  explicit Fixture(bool log = false) {
    log_requests = log;
    add_flow("welcome.yaml", kFlowYaml);
    api::ServiceOptions options;
    options.http.tokens = {{"reader", api::kScopeRead, kReader},
                           {"writer", api::kScopeWrite, kWriter},
                           {"boss", api::kScopeAdmin, kAdmin}};
    start(options);
  }
  httplib::Result call(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& secret) {
    httplib::Headers headers;
    if (!secret.empty()) headers.emplace("Authorization", "Bearer " + secret);
    const char* type = body.rfind("flow:", 0) == 0 ? "application/yaml" : "application/json";
    if (method == "GET") return client->Get(path.c_str(), headers);
    if (method == "PUT") return client->Put(path.c_str(), headers, body, type);
    if (method == "DELETE") return client->Delete(path.c_str(), headers);
    return client->Post(path.c_str(), headers, body, type);
  }
};

struct RouteCase {
  std::string method, path, body;
  api::Access needs;
};

}  // namespace

TEST_CASE(
    "each route class answers 401 without a token, 403 with the wrong scope, 2xx with the right one") {
  Fixture f;
  f.token = kAdmin;
  REQUIRE(
      f.put("/v1/users/u1", R"({"email":"a@example.com","phone":"+15550100"})", "application/json")
          ->status == 200);
  REQUIRE(
      f.post_json("/v1/events", {{"id", "e0"}, {"type", "signup"}, {"user_id", "u1"}})->status ==
      202);
  std::string journey = f.get_json("/v1/users/u1/journeys")["journeys"][0]["id"];

  int event = 0;
  auto next_event = [&] {
    return json{{"id", "e" + std::to_string(++event)}, {"type", "seen"}, {"user_id", "u1"}}.dump();
  };
  const std::vector<RouteCase> cases = {
      {"GET", "/v1/flows", "", api::Access::kRead},
      {"GET", "/v1/flows/welcome", "", api::Access::kRead},
      {"GET", "/v1/flows/welcome/stats", "", api::Access::kRead},
      {"GET", "/v1/users/u1", "", api::Access::kRead},
      {"GET", "/v1/users/u1/journeys", "", api::Access::kRead},
      {"GET", "/v1/users/u1/consent", "", api::Access::kRead},
      {"GET", "/v1/journeys/" + journey, "", api::Access::kRead},
      {"GET", "/v1/deliveries", "", api::Access::kRead},
      {"GET", "/v1/events/recent-types", "", api::Access::kRead},
      {"GET", "/v1/coupons/P", "", api::Access::kRead},
      {"GET", "/metrics", "", api::Access::kRead},
      {"POST", "/v1/check", kFlowYaml, api::Access::kRead},
      {"POST", "/v1/events", "", api::Access::kWrite},
      {"PUT", "/v1/users/u2", R"({"plan":"pro"})", api::Access::kWrite},
      {"PUT", "/v1/users/u1/consent", R"({"sms": false})", api::Access::kWrite},
      {"POST", "/v1/coupons/P", R"(["C1","C2"])", api::Access::kWrite},
      {"PUT", "/v1/flows/welcome", kFlowYaml, api::Access::kAdmin},
      {"POST", "/v1/flows/welcome/deploy", "", api::Access::kAdmin},
  };
  for (const RouteCase& c : cases) {
    INFO(c.method << " " << c.path);
    auto body = [&] { return c.path == "/v1/events" ? next_event() : c.body; };
    auto none = f.call(c.method, c.path, body(), "");
    REQUIRE(none);
    CHECK(none->status == 401);
    CHECK(json::parse(none->body)["error"] == "unauthorized");

    const std::string wrong = c.needs == api::Access::kRead ? kWriter : kReader;
    auto forbidden = f.call(c.method, c.path, body(), wrong);
    REQUIRE(forbidden);
    CHECK(forbidden->status == 403);
    if (c.needs == api::Access::kAdmin) {
      auto writer = f.call(c.method, c.path, body(), kWriter);
      REQUIRE(writer);
      CHECK(writer->status == 403);
    }

    const std::string right = c.needs == api::Access::kRead    ? kReader
                              : c.needs == api::Access::kWrite ? kWriter
                                                               : kAdmin;
    auto allowed = f.call(c.method, c.path, body(), right);
    REQUIRE(allowed);
    INFO(allowed->body);
    CHECK(allowed->status / 100 == 2);
    auto as_admin = f.call(c.method, c.path, body(), kAdmin);  // admin may do everything
    REQUIRE(as_admin);
    CHECK(as_admin->status / 100 == 2);
  }

  auto health = f.client->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);  // open to probes
  require_error(f.call("GET", "/v1/users/u1", "", "not-a-token-at-all"), 401, "unauthorized");
}

TEST_CASE("a Segment-style write key in HTTP Basic authenticates like a bearer token") {
  Fixture f;
  httplib::Headers basic = {httplib::make_basic_authentication_header(kWriter, "")};
  auto r = f.client->Post("/v1/events", basic,
                          json{{"id", "b1"}, {"type", "signup"}, {"user_id", "u9"}}.dump(),
                          "application/json");
  REQUIRE(r);
  CHECK(r->status == 202);
  auto read = f.client->Get("/v1/users/u9/journeys", basic);
  REQUIRE(read);
  CHECK(read->status == 403);  // a write key cannot read
}

TEST_CASE("handlers and the access log know the caller's token name") {
  std::ostringstream log_text;
  api::JsonLog log(log_text);
  api::MetricsRegistry metrics;
  api::ServerOptions options;
  options.port = 0;
  options.tokens = {{"reader", api::kScopeRead, kReader}};
  options.token = "legacy-admin-token";
  api::HttpServer server(options, metrics, log);
  server.get("/v1/whoami", [](const httplib::Request&, httplib::Response& res) {
    api::reply_json(res, 200, {{"name", api::current_caller().name}});
  });
  REQUIRE(server.start().ok());
  httplib::Client client("127.0.0.1", server.port());
  auto reader = client.Get("/v1/whoami", {{"Authorization", "Bearer " + kReader}});
  REQUIRE(reader);
  CHECK(json::parse(reader->body)["name"] == "reader");
  auto legacy = client.Get("/v1/whoami", {{"Authorization", "Bearer legacy-admin-token"}});
  REQUIRE(legacy);
  CHECK(json::parse(legacy->body)["name"] == "default");  // --token is the admin "default"
  server.stop();
  CHECK(log_text.str().find(R"("token":"reader")") != std::string::npos);
  CHECK(log_text.str().find(R"("token":"default")") != std::string::npos);
}

TEST_CASE("the tokens file: scopes, secrets from the environment, and its errors") {
  TempDir dir;
  setenv("TRELLIS_TEST_SECRET", "from-the-environment-123", 1);
  write_file(dir.file("tokens"),
             "# name scopes secret\n"
             "dashboards read  dashboards-secret-0001\n"
             "\n"
             "ingest     write env:TRELLIS_TEST_SECRET   # the producer\n"
             "ops        admin,read ops-secret-000000000001\n");
  auto tokens = api::load_tokens_file(dir.file("tokens"));
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 3);
  CHECK((*tokens)[0].name == "dashboards");
  CHECK((*tokens)[0].scopes == api::kScopeRead);
  CHECK((*tokens)[1].secret == "from-the-environment-123");
  CHECK((*tokens)[2].scopes == (api::kScopeAdmin | api::kScopeRead));

  auto error_of = [&](const std::string& text) {
    write_file(dir.file("bad"), text);
    auto loaded = api::load_tokens_file(dir.file("bad"));
    REQUIRE(!loaded.ok());
    return loaded.error().message;
  };
  CHECK(error_of("a root secret-0123456789abc\n").find(":1: unknown scope 'root'") !=
        std::string::npos);
  CHECK(error_of("a read short\n").find("shorter than 16") != std::string::npos);
  CHECK(error_of("a read 0123456789abcdef0\na write 0123456789abcdef1\n")
            .find(":2: a second token") != std::string::npos);
  CHECK(error_of("a read env:TRELLIS_TEST_UNSET_VARIABLE\n").find("is not set") !=
        std::string::npos);
  CHECK(error_of("just-a-name\n").find("expected `name scopes secret`") != std::string::npos);
}

namespace {
// An engine on a SQLite file: the journey id key lives in its store.
std::unique_ptr<trellis::runtime::Engine> engine_on(const std::string& path) {
  trellis::runtime::EngineOptions options;
  options.store = trellis::runtime::store_factory(path).value();
  options.adapter = "none";
  auto engine = trellis::runtime::Engine::open(options);
  REQUIRE(engine.ok());
  return std::move(engine.value());
}
}  // namespace

TEST_CASE("public journey ids: round trip, tampering refused, key kept in the database") {
  TempDir dir;
  auto ids = api::JourneyIds::open(*engine_on(dir.file("t.db")));
  REQUIRE(ids.ok());
  const std::string seven = ids->encode(7);
  CHECK(seven.rfind("7-", 0) == 0);
  CHECK(ids->decode(seven) == 7);
  CHECK_FALSE(ids->decode("8" + seven.substr(1)));  // the neighbour with the same mac
  CHECK_FALSE(ids->decode("7"));
  CHECK_FALSE(ids->decode(seven.substr(0, seven.size() - 1) + "x"));
  CHECK_FALSE(ids->decode("-" + seven));

  auto reopened = api::JourneyIds::open(*engine_on(dir.file("t.db")));
  REQUIRE(reopened.ok());
  CHECK(reopened->encode(7) == seven);  // valid across restarts
  TempDir other;
  auto elsewhere = api::JourneyIds::open(*engine_on(other.file("t.db")));
  REQUIRE(elsewhere.ok());
  CHECK(elsewhere->encode(7) != seven);  // a key per database
}

TEST_CASE("serve refuses a non-loopback host without a token unless told to allow it") {
  CHECK(api::is_loopback_host("127.0.0.1"));
  CHECK(api::is_loopback_host("127.8.9.10"));
  CHECK(api::is_loopback_host("::1"));
  CHECK(api::is_loopback_host("localhost"));
  CHECK_FALSE(api::is_loopback_host("0.0.0.0"));
  CHECK_FALSE(api::is_loopback_host("192.168.1.4"));
  CHECK_FALSE(api::is_loopback_host("::"));

  TempDir dir;
  std::ostringstream log_text;
  api::JsonLog log(log_text);
  api::ServiceOptions options;
  options.db = dir.file("t.db");
  options.flows_dir = "";
  options.adapter = "none";
  options.http.host = "0.0.0.0";
  options.http.port = 0;
  auto refused = api::Service::open(options, log);
  REQUIRE(!refused.ok());
  CHECK(refused.error().message.find("refusing to listen on 0.0.0.0 without a token") !=
        std::string::npos);

  options.allow_open = true;
  auto allowed = api::Service::open(options, log);
  CHECK(allowed.ok());
  if (allowed.ok()) (*allowed)->shutdown();

  options.allow_open = false;
  options.http.token = "some-admin-token";
  auto with_token = api::Service::open(options, log);
  CHECK(with_token.ok());
  if (with_token.ok()) (*with_token)->shutdown();
}

TEST_CASE("erasure and export need the write scope and the access log names no user") {
  Fixture f(/*log=*/true);
  f.token = kAdmin;  // for the reads around; the erasure and export use the writer's token
  const std::string user = "/v1/users/u-private-42";
  REQUIRE(
      f.put(user, R"({"name":"Zelda Quist","phone":"+15550100"})", "application/json")->status ==
      200);
  // A flow reading last_seen("signup"): the signup's time is kept, exported and erased.
  REQUIRE(f.put("/v1/flows/seen?deploy=true",
                "flow: seen\ntrigger: {event: visit, when: 'has(last_seen(\"signup\"))'}\n"
                "start: done\nnodes:\n  done: {type: exit}\n",
                "application/yaml")
              ->status == 200);
  REQUIRE(f.post_json("/v1/events", {{"type", "signup"}, {"user_id", "u-private-42"}})->status ==
          202);
  const json stats = f.get_json("/v1/flows/welcome/stats");
  require_error(f.call("GET", user + "/export", "", kReader), 403, "forbidden");
  require_error(f.call("DELETE", user, "", kReader), 403, "forbidden");

  auto exported = f.call("GET", user + "/export", "", kWriter);
  REQUIRE(exported);
  REQUIRE(exported->status == 200);
  json held = json::parse(exported->body);
  CHECK(held["traits"]["name"] == "Zelda Quist");
  REQUIRE(held["journeys"].size() == 1);
  CHECK(held["journeys"][0]["flow"] == "welcome");
  CHECK(held["journeys"][0]["trigger_event"]["type"] == "signup");
  CHECK_FALSE(held["journeys"][0]["steps"].empty());
  CHECK(held["behaviour"]["last_seen"]["signup"].is_string());
  CHECK(held["behaviour"]["counts"].empty());

  auto erased = f.call("DELETE", user, "", kWriter);
  REQUIRE(erased);
  REQUIRE(erased->status == 200);
  CHECK(json::parse(erased->body)["journeys"] == 1);
  f.get_json(user, 404);
  require_error(f.call("GET", user + "/export", "", kWriter), 404, "unknown_user");
  require_error(f.call("DELETE", user, "", kWriter), 404, "unknown_user");
  CHECK(f.get_json("/v1/flows/welcome/stats") == stats);  // counts stay

  f.service->shutdown();
  CHECK(f.log_text.str().find("\"msg\":\"request\"") != std::string::npos);
  CHECK(f.log_text.str().find("u-private-42") == std::string::npos);
}
