// Every endpoint of the HTTP API through real HTTP on loopback, against a real
// SQLite file: answers, documented errors, auth on and off, and "a bad
// request changes nothing".
#include "api/service.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "dsl/format_dsl.h"
#include "dsl/ir/node_table.h"
#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::read_file;
using api::testing::require_error;
using api::testing::TempDir;
using api::testing::write_file;
using nlohmann::json;

namespace {

const char* kWelcomeYaml = R"(flow: welcome
description: Greets new users.
trigger:
  event: signup
exit_on: [unsubscribe]
goal: order_paid
start: hello
nodes:
  hello:
    type: email
    subject: "Hi {{user.first_name | default: \"there\"}}"
    body: "Welcome aboard"
    next: wait
  wait:
    type: wait
    for: 1h
    next: pick
  pick:
    type: segment
    match: user.age > 30
    yes: give
    no: text
  give:
    type: coupon
    pool: P
    next: text
    on_exhausted: text
  text:
    type: sms
    text: "Hello {{coupon.code | default: \"friend\"}}"
    next: done
  done:
    type: exit
)";

// Email and SMS nodes need an address to make a delivery.
const char* kContact = R"({"email": "a@example.com", "phone": "+15550100"})";

// The welcome flow deployed (also as DSL when `also_dsl`, as flows/ keeps its seeds).
struct Fixture : api::testing::ServiceFixture {
  explicit Fixture(std::string server_token = "", bool also_dsl = false) {
    add_flow("welcome.yaml", kWelcomeYaml);
    if (also_dsl) {
      auto parsed = api::parse_flow_source(kWelcomeYaml, "welcome.yaml");
      REQUIRE(parsed.ok());
      add_flow("welcome.flow", trellis::dsl::format_dsl(*parsed.flow));
    }
    api::ServiceOptions options;
    options.http.token = std::move(server_token);
    start(options);
  }
};

json signup(const std::string& id, const std::string& user) {
  return {{"id", id}, {"type", "signup"}, {"user_id", user}, {"properties", json::object()}};
}

}  // namespace

TEST_CASE("flows: list, read in every format, unknown names") {
  Fixture f;
  json flows = f.get_json("/v1/flows");
  REQUIRE(flows["flows"].size() == 1);
  CHECK(flows["flows"][0]["name"] == "welcome");
  CHECK(flows["flows"][0]["version"] == 1);
  CHECK(flows["flows"][0]["draft"] == false);
  CHECK(flows["flows"][0]["journeys"] == 0);

  auto source = f.client->Get("/v1/flows/welcome");
  REQUIRE(source);
  CHECK(source->status == 200);
  CHECK(source->body == kWelcomeYaml);
  CHECK(source->get_header_value("X-Trellis-Version") == "1");

  json ir = f.get_json("/v1/flows/welcome?format=json");
  CHECK(ir["flow"] == "welcome");
  CHECK(ir["nodes"].size() == 6);
  CHECK(ir["nodes"][0].contains("span"));

  auto dsl = f.client->Get("/v1/flows/welcome?format=dsl");
  REQUIRE(dsl);
  CHECK(dsl->body.rfind("flow welcome", 0) == 0);
  auto yaml = f.client->Get("/v1/flows/welcome?format=yaml");
  REQUIRE(yaml);
  CHECK(yaml->body.find("flow: welcome") != std::string::npos);

  require_error(f.client->Get("/v1/flows/welcome?format=xml"), 400, "bad_format");
  require_error(f.client->Get("/v1/flows/nope"), 404, "unknown_flow");
  require_error(f.client->Get("/v1/flows/nope/stats"), 404, "unknown_flow");
  require_error(f.client->Post("/v1/flows/nope/deploy", "", "text/plain"), 404, "unknown_flow");
}

TEST_CASE("PUT of a flow with errors keeps it as a draft that deploy refuses") {
  Fixture f;
  std::string bad = kWelcomeYaml;
  bad.replace(bad.find("next: wait"), 10, "next: wiat");
  auto r = f.put("/v1/flows/welcome", bad, "application/yaml");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  json saved = json::parse(r->body);
  CHECK(saved["draft"] == true);
  CHECK(saved["deployable"] == false);
  CHECK(saved["errors"] == 1);
  REQUIRE(saved["diagnostics"].size() >= 1);
  CHECK(saved["diagnostics"][0]["severity"] == "error");
  CHECK(saved["diagnostics"][0]["node"] == "hello");
  CHECK(saved["diagnostics"][0]["line"].get<int>() > 0);
  // The file holds the draft; GET gives it back for editing; the running version stays.
  CHECK(read_file(f.dir.file("flows/welcome.yaml")).find("next: wiat") != std::string::npos);
  CHECK(f.client->Get("/v1/flows/welcome")->body.find("next: wiat") != std::string::npos);
  CHECK(f.get_json("/v1/flows/welcome?format=json")["nodes"][0]["next"] == "wiat");
  json listed = f.get_json("/v1/flows")["flows"][0];
  CHECK(listed["draft"] == true);
  CHECK(listed["version"] == 1);
  auto refused = f.client->Post("/v1/flows/welcome/deploy", "", "text/plain");
  require_error(refused, 422, "deploy_failed");
  CHECK(refused->body.find("wiat") != std::string::npos);
  require_error(f.put("/v1/flows/welcome?deploy=true", bad, "application/yaml"), 422,
                "deploy_failed");
  CHECK(f.get_json("/v1/flows")["flows"][0]["version"] == 1);

  // Fixed, it saves as deployable again.
  json fixed = json::parse(f.put("/v1/flows/welcome", kWelcomeYaml, "application/yaml")->body);
  CHECK(fixed["deployable"] == true);
  CHECK(fixed["errors"] == 0);
}

TEST_CASE("a draft with errors in the flows folder is listed and opens, never deploys") {
  api::testing::ServiceFixture f;
  std::string bad = kWelcomeYaml;
  bad.replace(bad.find("next: wait"), 10, "next: wiat");
  f.add_flow("welcome.yaml", bad);
  f.start();
  json listed = f.get_json("/v1/flows")["flows"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "welcome");
  CHECK(listed[0]["version"] == 0);
  CHECK(listed[0]["draft"] == true);
  CHECK(f.client->Get("/v1/flows/welcome")->body == bad);
  require_error(f.client->Post("/v1/flows/welcome/deploy", "", "text/plain"), 422, "deploy_failed");
}

TEST_CASE("PUT of an unreadable or misnamed flow answers 422 and changes nothing") {
  Fixture f;
  std::string before = read_file(f.dir.file("flows/welcome.yaml"));
  auto r = f.put("/v1/flows/welcome", "flow: welcome\nnodes: [", "application/yaml");
  require_error(r, 422, "invalid_flow");
  CHECK(read_file(f.dir.file("flows/welcome.yaml")) == before);
  CHECK(f.get_json("/v1/flows")["flows"][0]["draft"] == false);

  // The URL and the flow must name the same flow.
  std::string renamed = kWelcomeYaml;
  renamed.replace(0, 13, "flow: other");
  require_error(f.put("/v1/flows/welcome", renamed, "application/yaml"), 422, "invalid_flow");
  require_error(f.put("/v1/flows/welcome", "", "application/yaml"), 400, "empty_body");
  require_error(f.put("/v1/flows/bad%2Fname", kWelcomeYaml, "application/yaml"), 404, "not_found");
}

TEST_CASE("PUT saves a draft in canonical form, deploy makes it the next version") {
  Fixture f;
  std::string changed = kWelcomeYaml;
  changed.replace(changed.find("Welcome aboard"), 14, "Welcome, really");
  auto r = f.put("/v1/flows/welcome", changed, "application/yaml");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["draft"] == true);
  CHECK(read_file(f.dir.file("flows/welcome.yaml")).find("Welcome, really") != std::string::npos);
  CHECK(f.get_json("/v1/flows")["flows"][0]["version"] == 1);  // running version untouched

  json deployed = json::parse(f.client->Post("/v1/flows/welcome/deploy", "", "text/plain")->body);
  CHECK(deployed["version"] == 2);
  CHECK(deployed["changed"] == true);
  json again = json::parse(f.client->Post("/v1/flows/welcome/deploy", "", "text/plain")->body);
  CHECK(again["version"] == 2);
  CHECK(again["changed"] == false);
  CHECK(f.get_json("/v1/flows")["flows"][0]["draft"] == false);
}

TEST_CASE("PUT accepts IR JSON and DSL text, and deploy=true deploys at once") {
  Fixture f;
  json ir = f.get_json("/v1/flows/welcome?format=json");
  ir["description"] = "From the editor";
  auto r = f.put("/v1/flows/welcome?deploy=true", ir.dump(), "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["version"] == 2);
  CHECK(read_file(f.dir.file("flows/welcome.yaml")).find("From the editor") != std::string::npos);

  auto dsl = f.client->Get("/v1/flows/welcome?format=dsl");
  std::string text = dsl->body;
  text.replace(text.find("flow welcome"), 12, "flow greet");
  auto created = f.put("/v1/flows/greet", text, "text/x-trellis-flow");
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 200);
  CHECK(read_file(f.dir.file("flows/greet.flow")).rfind("flow greet", std::string::npos) !=
        std::string::npos);
  auto source = f.client->Get("/v1/flows/greet");
  CHECK(source->get_header_value("X-Trellis-Draft") == "true");
  CHECK(json::parse(f.client->Post("/v1/flows/greet/deploy", "", "text/plain")->body)["version"] ==
        1);

  json bad_ir = ir;
  bad_ir["nodes"][0]["next"] = "nowhere";
  require_error(f.put("/v1/flows/welcome?deploy=true", bad_ir.dump(), "application/json"), 422,
                "deploy_failed");
  require_error(f.put("/v1/flows/welcome", "{not json", "application/json"), 422, "invalid_flow");
}

TEST_CASE("POST /v1/check answers diagnostics and the IR without saving") {
  Fixture f;
  auto good = f.client->Post("/v1/check", kWelcomeYaml, "application/yaml");
  REQUIRE(good);
  json g = json::parse(good->body);
  CHECK(g["ok"] == true);
  CHECK(g["flow"]["flow"] == "welcome");

  std::string bad = kWelcomeYaml;
  bad.replace(bad.find("next: wait"), 10, "next: wiat");
  json b = json::parse(f.client->Post("/v1/check", bad, "application/yaml")->body);
  CHECK(b["ok"] == false);
  CHECK(b["errors"].get<int>() >= 1);
  CHECK(b["diagnostics"][0]["field"] == "next");
  CHECK(f.get_json("/v1/flows")["flows"].size() == 1);
}

bool has_finding(const json& check, const std::string& code, const std::string& node,
                 const std::string& field) {
  for (const json& d : check["diagnostics"])
    if (d["code"] == code && d["node"] == node && d["field"] == field) return true;
  return false;
}

TEST_CASE("POST /v1/check warns of event types and traits the server never saw, when close") {
  Fixture f;
  std::string typo = kWelcomeYaml;
  typo.replace(typo.find("event: signup"), 13, "event: sigup");
  typo.replace(typo.find("user.first_name"), 15, "user.frist_name");
  // Nothing seen yet: a new name cannot be told from a typo.
  json before = json::parse(f.client->Post("/v1/check", typo, "application/yaml")->body);
  CHECK_FALSE(has_finding(before, "event_type_unseen", "", "trigger.event"));
  CHECK_FALSE(has_finding(before, "trait_unknown", "hello", "subject"));

  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  REQUIRE(f.client->Put("/v1/users/u1", R"({"first_name": "Ana", "age": 31})", "application/json")
              ->status == 200);
  json after = json::parse(f.client->Post("/v1/check", typo, "application/yaml")->body);
  INFO(after.dump());
  CHECK(after["ok"] == true);  // warnings only
  REQUIRE(has_finding(after, "event_type_unseen", "", "trigger.event"));
  REQUIRE(has_finding(after, "trait_unknown", "hello", "subject"));
  for (const json& d : after["diagnostics"]) {
    if (d["code"] == "event_type_unseen")
      CHECK(d["message"].get<std::string>().find("did you mean 'signup'") != std::string::npos);
    if (d["code"] == "trait_unknown")
      CHECK(d["plain"].get<std::string>().find("did you mean 'first_name'") != std::string::npos);
  }
  // The names as seen: no finding.
  json clean = json::parse(f.client->Post("/v1/check", kWelcomeYaml, "application/yaml")->body);
  CHECK_FALSE(has_finding(clean, "event_type_unseen", "", "trigger.event"));
  CHECK_FALSE(has_finding(clean, "trait_unknown", "hello", "subject"));
}

TEST_CASE(
    "POST /v1/check knows the names in the store after a restart, not only those seen since") {
  Fixture f;
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  REQUIRE(f.client->Put("/v1/users/u1", R"({"first_name": "Ana"})", "application/json")->status ==
          200);
  // A new process over the same database: nothing seen since it started.
  f.client.reset();
  f.service.reset();
  f.start();
  std::string typo = kWelcomeYaml;
  typo.replace(typo.find("event: signup"), 13, "event: sigup");
  typo.replace(typo.find("user.first_name"), 15, "user.frist_name");
  json after = json::parse(f.client->Post("/v1/check", typo, "application/yaml")->body);
  INFO(after.dump());
  CHECK(has_finding(after, "event_type_unseen", "", "trigger.event"));
  CHECK(has_finding(after, "trait_unknown", "hello", "subject"));
  json clean = json::parse(f.client->Post("/v1/check", kWelcomeYaml, "application/yaml")->body);
  CHECK_FALSE(has_finding(clean, "event_type_unseen", "", "trigger.event"));
  CHECK_FALSE(has_finding(clean, "trait_unknown", "hello", "subject"));
}

TEST_CASE("POST /v1/check keeps graph warnings while one expression is broken (IR JSON)") {
  Fixture f;
  json flow =
      json::parse(f.client->Post("/v1/check", kWelcomeYaml, "application/yaml")->body)["flow"];
  flow["nodes"].push_back({{"id", "orphan"}, {"type", "exit"}});
  json broken = flow;
  for (json& node : broken["nodes"])
    if (node["id"] == "pick") node["match"] = "user.age >";
  json fine = json::parse(f.post_json("/v1/check", flow)->body);
  json bad = json::parse(f.post_json("/v1/check", broken)->body);
  INFO(bad.dump());
  CHECK(has_finding(fine, "unreachable", "orphan", ""));
  CHECK(bad["ok"] == false);
  CHECK(has_finding(bad, "unreachable", "orphan", ""));
}

TEST_CASE("events: 202 once durable, arrays in one call, duplicates, bad bodies change nothing") {
  Fixture f;
  auto one = f.post_json("/v1/events", signup("e1", "u1"));
  REQUIRE(one);
  INFO(one->body);
  CHECK(one->status == 202);
  CHECK(json::parse(one->body)["accepted"] == 1);

  json batch = json::array({signup("e2", "u2"), signup("e3", "u3"), signup("e1", "u1")});
  auto many = f.post_json("/v1/events", batch);
  REQUIRE(many);
  CHECK(many->status == 202);
  CHECK(json::parse(many->body)["accepted"] == 2);
  CHECK(json::parse(many->body)["duplicates"] == 1);

  // All or nothing: the valid first element is not applied either.
  json mixed = json::array({signup("e4", "u4"), {{"type", "signup"}}});
  require_error(f.post_json("/v1/events", mixed), 400, "invalid_event");
  require_error(f.client->Post("/v1/events", "{oops", "application/json"), 400, "invalid_event");
  require_error(
      f.client->Post("/v1/events", std::string(40, '[') + std::string(40, ']'), "application/json"),
      400, "json_too_deep");
  require_error(f.client->Get("/v1/users/u4/journeys"), 404, "unknown_user");

  // Segment and CloudEvents forms.
  json track = {{"type", "track"}, {"event", "signup"}, {"userId", "u5"}, {"messageId", "m5"}};
  CHECK(f.post_json("/v1/events", track)->status == 202);
  json cloud = {{"specversion", "1.0"},
                {"id", "c6"},
                {"type", "signup"},
                {"source", "test"},
                {"subject", "u6"}};
  CHECK(f.post_json("/v1/events", cloud)->status == 202);
  CHECK(f.get_json("/v1/users/u6/journeys")["journeys"].size() == 1);

  json types = f.get_json("/v1/events/recent-types")["types"];
  REQUIRE(types.size() >= 1);
  CHECK(types[0]["type"] == "signup");
}

TEST_CASE("identifiers over HTTP are bounded and validated, and the error names the field") {
  Fixture f;
  // 200 distinct 1 MB types used to be kept and answered by recent-types.
  json huge = {{"type", std::string(1 << 20, 't')}, {"user_id", "u1"}};
  auto r = f.post_json("/v1/events", huge);
  require_error(r, 400, "invalid_event");
  CHECK(json::parse(r->body)["detail"] == "`type` is longer than 200 bytes");
  r = f.post_json("/v1/events", {{"type", 7}, {"user_id", "u1"}});
  CHECK(json::parse(r->body)["detail"] == "`type` must be a string");
  CHECK(f.get_json("/v1/events/recent-types")["types"].empty());

  // The Trellis form of identify is a profile update, not a Segment call.
  r = f.post_json("/v1/events",
                  {{"type", "identify"}, {"user_id", "u9"}, {"traits", {{"plan", "pro"}}}});
  REQUIRE(r->status == 202);
  CHECK(f.get_json("/v1/users/u9")["traits"]["plan"] == "pro");
  // A numeric user id beyond int64 keeps its digits.
  r = f.client->Post("/v1/events",
                     R"({"type": "identify", "user_id": 18446744073709551615, "traits": {"a": 1}})",
                     "application/json");
  REQUIRE(r->status == 202);
  CHECK(f.get_json("/v1/users/18446744073709551615")["traits"]["a"] == 1);

  require_error(f.put("/v1/users/a%00b", "{}", "application/json"), 400, "invalid_identifier");
  require_error(f.put("/v1/users/" + std::string(300, 'u'), "{}", "application/json"), 400,
                "invalid_identifier");
  require_error(
      f.client->Post("/v1/coupons/" + std::string(300, 'p'), R"(["C-1"])", "application/json"), 400,
      "invalid_identifier");
}

TEST_CASE("journeys, steps, deliveries and stats after an event") {
  Fixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  json journeys = f.get_json("/v1/users/u1/journeys")["journeys"];
  REQUIRE(journeys.size() == 1);
  CHECK(journeys[0]["flow"] == "welcome");
  CHECK(journeys[0]["node"] == "wait");
  CHECK(journeys[0]["state"] == "waiting_timer");

  // Public ids are `<number>-<mac>`: a neighbour's number with this mac is unknown.
  std::string id = journeys[0]["id"];
  json journey = f.get_json("/v1/journeys/" + id);
  CHECK(journey["id"] == id);
  REQUIRE(journey["steps"].size() >= 2);
  CHECK(journey["steps"][0]["node"] == "hello");
  CHECK(journey["steps"][0]["input"] == "entry");
  const std::string number = id.substr(0, id.find('-')), mac = id.substr(id.find('-'));
  CHECK(number == "1");
  require_error(f.client->Get("/v1/journeys/1"), 404, "unknown_journey");
  require_error(f.client->Get(("/v1/journeys/2" + mac).c_str()), 404, "unknown_journey");
  require_error(f.client->Get("/v1/journeys/abc"), 404, "unknown_journey");

  json deliveries = f.get_json("/v1/deliveries?user=u1")["deliveries"];
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0]["channel"] == "email");
  CHECK(deliveries[0]["subject"] == "Hi there");
  CHECK(deliveries[0]["flow"] == "welcome");
  CHECK(f.get_json("/v1/deliveries?flow=welcome")["deliveries"].size() == 1);
  require_error(f.client->Get("/v1/deliveries?flow=nope"), 404, "unknown_flow");
  require_error(f.client->Get("/v1/deliveries?user=nobody"), 404, "unknown_user");
  require_error(f.client->Get("/v1/deliveries?limit=0"), 400, "bad_limit");
  require_error(f.client->Get("/v1/deliveries?limit=x"), 400, "bad_limit");

  json stats = f.get_json("/v1/flows/welcome/stats");
  CHECK(stats["journeys"] == 1);
  CHECK(stats["live"] == 1);
  bool waiting_at_wait = false;
  for (const auto& n : stats["nodes"])
    if (n["node"] == "wait" && n["waiting"] == 1) waiting_at_wait = true;
  CHECK(waiting_at_wait);
}

TEST_CASE("users: traits merge, unknown users, bad traits") {
  Fixture f;
  auto put = f.put("/v1/users/u1", R"({"age": 34, "first_name": "Ana"})", "application/json");
  REQUIRE(put);
  CHECK(put->status == 200);
  f.put("/v1/users/u1", R"({"age": 35})", "application/json");
  json user = f.get_json("/v1/users/u1");
  CHECK(user["traits"]["age"] == 35);
  CHECK(user["traits"]["first_name"] == "Ana");
  require_error(f.client->Get("/v1/users/ghost"), 404, "unknown_user");
  require_error(f.put("/v1/users/u1", "[1,2]", "application/json"), 400, "invalid_traits");
  require_error(f.put("/v1/users/u1", "{bad", "application/json"), 400, "invalid_traits");
  CHECK(f.get_json("/v1/users/u1")["traits"]["age"] == 35);
}

TEST_CASE("coupons load from JSON or text lines, bad bodies are refused") {
  Fixture f;
  auto r = f.post_json("/v1/coupons/P", json::array({"C-1", "C-2"}));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["added"] == 2);
  auto again = f.post_json("/v1/coupons/P", {{"codes", {"C-2", "C-3"}}});
  CHECK(json::parse(again->body)["added"] == 1);
  auto text = f.client->Post("/v1/coupons/P", "C-4\nC-5\n", "text/plain");
  CHECK(json::parse(text->body)["left"] == 5);
  CHECK(f.get_json("/v1/coupons/P")["left"] == 5);
  require_error(f.post_json("/v1/coupons/P", json::array({1, 2})), 400, "invalid_codes");
  require_error(f.post_json("/v1/coupons/P", json::array()), 400, "invalid_codes");
  require_error(f.client->Post("/v1/coupons/P", "{", "application/json"), 400, "bad_json");
  CHECK(f.get_json("/v1/coupons/P")["left"] == 5);
}

TEST_CASE("node schemas for the editor") {
  Fixture f;
  auto r = f.client->Get("/v1/schema/nodes");
  REQUIRE(r);
  json schemas = json::parse(r->body);
  REQUIRE(schemas.is_array());
  // The whole table, generic kinds included (docs/node-kinds.md).
  CHECK(schemas.size() == trellis::ir::node_schemas().size());
  CHECK(schemas[0].contains("fields"));
}

TEST_CASE("simulate runs a flow on a virtual clock without touching the store") {
  Fixture f;
  json request = {{"flow", "welcome"},
                  {"users",
                   {{"u1", {{"age", 40}, {"email", "a@x.org"}, {"phone", "+1"}}},
                    {"u2", {{"age", 20}, {"email", "b@x.org"}, {"phone", "+2"}}}}},
                  {"coupons", {{"P", {"SIM-1"}}}},
                  {"events",
                   {{{"at", "0s"}, {"type", "signup"}, {"user", "u1"}},
                    {{"at", "10m"}, {"type", "signup"}, {"user", "u2"}}}}};
  auto r = f.post_json("/v1/simulate", request);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  json out = json::parse(r->body);
  std::vector<std::string> seen;
  for (const auto& d : out["deliveries"])
    seen.push_back(d["offset"].get<std::string>() + " " + d["user_id"].get<std::string>() + " " +
                   d["channel"].get<std::string>());
  CHECK(seen == std::vector<std::string>{"0s u1 email", "10m u2 email", "1h u1 coupon", "1h u1 sms",
                                         "1h10m u2 sms"});
  REQUIRE(out["journeys"].size() == 2);
  CHECK(out["journeys"][0]["steps"].size() >= 5);
  // The server's own store saw nothing.
  require_error(f.client->Get("/v1/users/u1"), 404, "unknown_user");

  json with_ir = request;
  with_ir["flow"] = f.get_json("/v1/flows/welcome?format=json");
  CHECK(f.post_json("/v1/simulate", with_ir)->status == 200);
  with_ir["flow"]["start"] = "nowhere";
  require_error(f.post_json("/v1/simulate", with_ir), 422, "invalid_flow");
  require_error(f.post_json("/v1/simulate", {{"events", json::array()}}), 400,
                "invalid_simulation");
  json bad_event = request;
  bad_event["events"][0].erase("user");
  require_error(f.post_json("/v1/simulate", bad_event), 400, "invalid_simulation");
}

TEST_CASE("with a token, every API call needs it and a refused write changes nothing") {
  Fixture f("tok");
  require_error(f.client->Post("/v1/events", signup("e1", "u1").dump(), "application/json"), 401,
                "unauthorized");
  require_error(f.client->Put("/v1/flows/welcome", kWelcomeYaml, "application/yaml"), 401,
                "unauthorized");
  require_error(f.client->Post("/v1/coupons/P", "[\"x\"]", "application/json"), 401,
                "unauthorized");
  require_error(f.client->Put("/v1/users/u1", "{}", "application/json"), 401, "unauthorized");
  require_error(f.client->Post("/v1/flows/welcome/deploy", "", "text/plain"), 401, "unauthorized");
  require_error(f.client->Post("/v1/events", {{"Authorization", "Bearer nope"}},
                               signup("e1", "u1").dump(), "application/json"),
                401, "unauthorized");
  require_error(f.client->Get("/v1/users/u1/journeys"), 401, "unauthorized");
  require_error(f.client->Get("/v1/coupons/P"), 401, "unauthorized");

  f.token = "tok";
  CHECK(f.get_json("/v1/coupons/P")["left"] == 0);  // nothing was loaded
  f.get_json("/v1/users/u1/journeys", 404);         // nor any event
  CHECK(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  CHECK(f.get_json("/v1/users/u1/journeys")["journeys"].size() == 1);
}

TEST_CASE("/metrics has ingestion, journeys by flow and state, and the engine's counters") {
  Fixture f;
  REQUIRE(f.put("/v1/users/u1", kContact, "application/json")->status == 200);
  REQUIRE(f.post_json("/v1/events", signup("e1", "u1"))->status == 202);
  f.client->Post("/v1/events", "{bad", "application/json");
  auto r = f.client->Get("/metrics");
  REQUIRE(r);
  const std::string& text = r->body;
  CHECK(text.find(R"(trellis_ingest_events_total{source="http",outcome="accepted"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(trellis_ingest_rejected_total{source="http",reason="invalid"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(trellis_journeys{flow="welcome",state="waiting"} 1)") != std::string::npos);
  CHECK(text.find("trellis_timers_pending 1") != std::string::npos);
  CHECK(text.find("trellis_deliveries_created_total 1") != std::string::npos);
}

TEST_CASE("a flow kept as .yaml and .flow deploys once, and PUT keeps both files in step") {
  Fixture f("", true);
  json flows = f.get_json("/v1/flows")["flows"];
  REQUIRE(flows.size() == 1);
  CHECK(flows[0]["version"] == 1);
  CHECK(flows[0]["file"].get<std::string>().find("welcome.yaml") != std::string::npos);
  CHECK(flows[0]["files"].size() == 2);

  std::string changed = kWelcomeYaml;
  changed.replace(changed.find("Welcome aboard"), 14, "Welcome, both");
  auto r = f.put("/v1/flows/welcome", changed, "application/yaml");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  std::string yaml = read_file(f.dir.file("flows/welcome.yaml"));
  std::string dsl = read_file(f.dir.file("flows/welcome.flow"));
  CHECK(yaml.find("flow: welcome") != std::string::npos);
  CHECK(yaml.find("Welcome, both") != std::string::npos);
  CHECK(dsl.find("flow welcome") != std::string::npos);
  CHECK(dsl.find("Welcome, both") != std::string::npos);
  f.service->shutdown();
  CHECK(f.log_text.str().find("\"level\":\"error\"") == std::string::npos);
  CHECK(f.log_text.str().find("differ") == std::string::npos);
}

TEST_CASE(
    "delivery failures are counted by channel and outcome and logged; timer lateness is measured") {
  TempDir dir;
  write_file(dir.file("flows/ping.yaml"), R"(flow: ping
trigger:
  event: ping
start: pause
nodes:
  pause: {type: wait, for: 1s, next: mail}
  mail: {type: email, subject: "Hi", body: "Pong", next: done}
  done: {type: exit}
)");
  std::ostringstream log_text;
  api::JsonLog log(log_text);
  api::ServiceOptions options;
  options.db = dir.file("t.db");
  options.flows_dir = dir.file("flows");
  options.adapter = "webhook";  // to a port nobody listens on: every attempt fails
  options.webhook_url = "http://127.0.0.1:" + std::to_string(api::testing::free_port()) + "/hook";
  options.http.port = 0;
  options.log_requests = false;
  auto service = api::Service::open(options, log);
  REQUIRE(service.ok());
  REQUIRE((*service)->start().ok());
  httplib::Client client("127.0.0.1", (*service)->port());
  REQUIRE(client.Put("/v1/users/u1", kContact, "application/json")->status == 200);
  json event = {{"id", "p1"}, {"type", "ping"}, {"user_id", "u1"}};
  REQUIRE(client.Post("/v1/events", event.dump(), "application/json")->status == 202);

  std::string text;
  for (int i = 0; i < 100; ++i) {  // 10 s at most
    text = client.Get("/metrics")->body;
    if (text.find(R"(trellis_deliveries_total{channel="email",outcome="retry"})") !=
        std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // At least one failed attempt: back-off has full jitter, so a second may follow at once.
  CHECK(text.find(R"(trellis_deliveries_total{channel="email",outcome="retry"} )") !=
        std::string::npos);
  CHECK(text.find("trellis_timer_lateness_seconds_count 1") != std::string::npos);
  (*service)->shutdown();
  std::istringstream lines(log_text.str());
  std::string line;
  int failures = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    if (j.value("msg", "") == "delivery failed") {
      ++failures;
      CHECK(j["channel"] == "email");
      CHECK(j["outcome"] == "retry");
      CHECK(j["flow"] == "ping");
      CHECK_FALSE(j["error"].get<std::string>().empty());
    }
  }
  CHECK(failures >= 1);
}

TEST_CASE("trellis.yaml in the flows folder is the delivery configuration, not a flow") {
  CHECK_FALSE(api::valid_flow_name("trellis"));  // PUT would save over it
  CHECK(api::valid_flow_name("trellis_welcome"));
  TempDir dir;
  write_file(dir.file("flows/trellis.yaml"), "channels:\n  sms: {provider: file}\n");
  std::ostringstream log_text;
  api::JsonLog log(log_text);
  api::ServiceOptions options;
  options.db = dir.file("t.db");
  options.flows_dir = dir.file("flows");
  options.http.port = 0;
  auto service = api::Service::open(options, log);
  REQUIRE(service.ok());
  CHECK(log_text.str().find("\"level\":\"error\"") == std::string::npos);
  CHECK((*service)->engine().flows().empty());
}
