#include "dsl/json_format.h"

#include <catch2/catch.hpp>

#include "dsl/ir/compare.h"
#include "tests/dsl/sample_flows.h"

using namespace trellis;
using nlohmann::json;

TEST_CASE("flow JSON reads into the IR and writes back unchanged") {
  for (const json& input : {dsl::test::cart_reminder_json(), dsl::test::shapes_json()}) {
    ir::Diagnostics diagnostics;
    ir::Flow flow = dsl::flow_from_json(input, "api", diagnostics);
    INFO(input["flow"]);
    CHECK(diagnostics.empty());
    CHECK(dsl::flow_to_json(flow) == input);
  }
}

TEST_CASE("flow JSON parses expressions, templates and durations") {
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(dsl::test::cart_reminder_json(), "api", diagnostics);
  REQUIRE(flow.trigger.when);
  CHECK(flow.trigger.when->tree.has_value());
  const ir::Node* wait = flow.find_node("wait_pay");
  REQUIRE(wait != nullptr);
  REQUIRE(wait->as<ir::WaitNode>()->wait_for);
  CHECK(wait->as<ir::WaitNode>()->wait_for->seconds == 72 * 3600);
  const ir::Node* mail = flow.find_node("mail");
  REQUIRE(mail != nullptr);
  CHECK(mail->as<ir::EmailNode>()->subject->parts.size() == 2);
  CHECK(flow.find_node("nudge")->as<ir::AbNode>()->variants[2].comments ==
        ir::Comments{"holdout: no message"});
}

TEST_CASE("flow JSON reports problems as diagnostics with node and field") {
  json input = dsl::test::cart_reminder_json();
  input["nodes"][1]["match"] = "user.age >";
  input["nodes"][0]["for"] = "72 hours";
  input["nodes"][2]["type"] = "cupon";
  input["exit_on"] = "order_paid";
  input["re_entry"] = "sometimes";
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(input, "api", diagnostics);
  REQUIRE(diagnostics.error_count() == 5);
  std::vector<std::string> where;
  for (const ir::Diagnostic& d : diagnostics.items()) where.push_back(d.node + "/" + d.field);
  CHECK(where == std::vector<std::string>{"/re_entry", "/exit_on", "wait_pay/for", "pick/match",
                                          "give_coupon/type"});
  CHECK(diagnostics.items()[4].message == "unknown node type \"cupon\"");
  CHECK(flow.nodes.size() == 7);  // the node of unknown type is left out
}

TEST_CASE("flow JSON of the wrong shape never throws") {
  for (const char* text :
       {"null", "[]", "42", R"({"nodes": 3})", R"({"nodes": [1, {"type": 2}]})",
        R"({"trigger": {"event": 5, "when": []}})",
        R"({"nodes": [{"id": "x", "type": "ab", "variants": [{"weight": "9"}]}]})",
        R"({"nodes": [{"id": "x", "type": "coupon", "generate": {"length": "8"}}]})"}) {
    ir::Diagnostics diagnostics;
    INFO(text);
    CHECK_NOTHROW(dsl::flow_from_json(json::parse(text), "api", diagnostics));
    CHECK(diagnostics.has_errors());
  }
}

TEST_CASE("null in flow JSON reads as absent") {
  json input = dsl::test::cart_reminder_json();
  input["goal"] = nullptr;
  input["trigger"]["when"] = nullptr;
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(input, "api", diagnostics);
  CHECK(diagnostics.empty());
  CHECK_FALSE(flow.goal.has_value());
  CHECK_FALSE(flow.trigger.when.has_value());
}

TEST_CASE("spans are written on request and ignored on input") {
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(dsl::test::cart_reminder_json(), "api", diagnostics);
  flow.nodes[0].span = {3, 5, 40, 8};
  json out = dsl::flow_to_json(flow, {true});
  CHECK(out["nodes"][0]["span"] == json{{"line", 3}, {"column", 5}});
  CHECK_FALSE(out["nodes"][1].contains("span"));
  ir::Flow back = dsl::flow_from_json(out, "api", diagnostics);
  CHECK(diagnostics.empty());
  CHECK(ir::same_flow(flow, back).empty());
}

TEST_CASE("diagnostics become JSON objects") {
  ir::Diagnostics diagnostics;
  diagnostics.warning("flows/a.yaml", {4, 7, 30, 3}, "node 'x' is never reached", "x");
  diagnostics.set_last_code("unreachable");
  json out = dsl::diagnostics_to_json(diagnostics);
  CHECK(out == json::parse(R"([{"severity": "warning", "file": "flows/a.yaml", "line": 4,
    "column": 7, "length": 3, "message": "node 'x' is never reached", "node": "x", "field": "",
    "code": "unreachable", "plain": "No arrow leads to 'X': connect it or remove it."}])"));
}

TEST_CASE("end-of-line comments travel in JSON and same_flow tells them apart") {
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(dsl::test::cart_reminder_json(), "api", diagnostics);
  REQUIRE(diagnostics.empty());
  CHECK(flow.field_comments.at("exit_on") == "these events end the journey wherever it is");
  CHECK(flow.find_node("wait_pay")->field_comments.at("for") == "72 hours, then pick");
  ir::Flow other = flow;
  CHECK(ir::same_flow(flow, other) == "");
  other.nodes[0].field_comments["for"] = "durable timer";
  CHECK(ir::same_flow(flow, other) ==
        "node 'wait_pay' field comments: '=first stop|for=72 hours, then pick' vs "
        "'=first stop|for=durable timer'");
  other = flow;
  other.field_comments.erase("nodes");
  CHECK_FALSE(ir::same_flow(flow, other).empty());
  other = flow;
  other.nodes[4].as<ir::AbNode>()->variants[0].trailing_comment = "new";
  CHECK_FALSE(ir::same_flow(flow, other).empty());
  json bad = dsl::test::cart_reminder_json();
  bad["field_comments"] = {{"goal", 3}};
  dsl::flow_from_json(bad, "api", diagnostics);
  CHECK(diagnostics.error_count() == 1);
}

TEST_CASE("delivery settings and local-time waits travel in JSON") {
  json input = dsl::test::shapes_json();
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(input, "api", diagnostics);
  CHECK(diagnostics.empty());
  CHECK(flow.category_value() == ir::FlowCategory::kTransactional);
  CHECK(flow.priority_value() == 80);
  const auto* wait = flow.find_node("morning")->as<ir::WaitNode>();
  REQUIRE(wait->until_time);
  CHECK(wait->until_time->minute_of_day == 570);
  CHECK(wait->on_days.size() == 2);

  // The editor may send a priority as a JSON number; it reads as its digits.
  input["priority"] = 35;
  ir::Flow numeric = dsl::flow_from_json(input, "api", diagnostics);
  REQUIRE(numeric.priority);
  CHECK(numeric.priority->value == "35");
  CHECK(ir::same_flow(flow, numeric) == "priority: '80' vs '35'");

  input["nodes"][4]["on_days"] = json::array({"mon", 3});
  ir::Diagnostics bad;
  dsl::flow_from_json(input, "api", bad);
  REQUIRE(bad.items().size() == 1);
  CHECK(bad.items()[0].message == "'on_days' must list weekdays as strings");
  CHECK(bad.items()[0].node == "morning");
  CHECK(bad.items()[0].field == "on_days");
}
