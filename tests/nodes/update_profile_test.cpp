// update_profile (nodes/generic/update_profile.cpp): the same flow in YAML and the
// DSL, `fmt` both ways, the checker's findings with positions, and the decisions.
#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "fixtures.h"
#include "flow_text.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

namespace {

const char* const kYaml = R"(flow: order_counter
trigger:
  event: order_paid
re_entry: always
start: count
nodes:
  count:
    type: update_profile
    set:
      tier: "'gold'"
      last_total: event.total
    increment:
      orders: 1
    next: done
  done:
    type: exit
)";

const char* const kDsl = R"(flow order_counter {
  trigger order_paid
  re_entry always
  start -> count
}

count: update_profile {
  set { tier: 'gold', last_total: event.total }
  increment { orders: 1 }
  next -> done
}

done: exit
)";

std::string with_node(const std::string& body) {
  return "flow: f\ntrigger: {event: order_paid}\nstart: count\nnodes:\n  count:\n"
         "    type: update_profile\n" +
         body + "  done: {type: exit}\n";
}

}  // namespace

TEST_CASE("update_profile reads the same from YAML and the DSL", "[update_profile]") {
  ir::Flow yaml = load(kYaml, dsl::FlowSyntax::kYaml);
  ir::Flow flow_dsl = load(kDsl, dsl::FlowSyntax::kDsl);
  CHECK(ir::same_flow(yaml, flow_dsl).empty());
  CHECK(ir::node_kind_name(yaml.nodes[0].kind()) == "update_profile");
}

TEST_CASE("update_profile survives fmt in both syntaxes", "[update_profile]") {
  ir::Flow yaml = load(kYaml, dsl::FlowSyntax::kYaml);
  CHECK(dsl::format_yaml(yaml) == kYaml);  // the canonical form, unchanged
  std::string as_dsl = dsl::format_dsl(yaml);
  CHECK(as_dsl == kDsl);
  CHECK(ir::same_flow(yaml, load(as_dsl, dsl::FlowSyntax::kDsl)).empty());
}

TEST_CASE("the checker judges update_profile's fields with positions", "[update_profile]") {
  SECTION("neither set nor increment") {
    auto found = findings(with_node("    next: done\n"), "missing_one_of");
    REQUIRE(found.size() == 1);
    CHECK(found[0].node == "count");
    CHECK(found[0].span.line == 5);
  }
  SECTION("no next") {
    auto found = findings(with_node("    increment: {orders: 1}\n"), "missing_field");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "next");
  }
  SECTION("an increment that is never a number") {
    auto found =
        findings(with_node("    increment: {orders: \"'one'\"}\n    next: done\n"), "not_a_number");
    REQUIRE(found.size() == 1);
    CHECK(found[0].span.line == 7);
    CHECK(found[0].field == "increment.orders");
  }
  SECTION("a trait written twice, and a bad trait name") {
    std::string body =
        "    set: {orders: 0, \"bad name\": 1}\n    increment: {orders: 1}\n    next: done\n";
    CHECK(findings(with_node(body), "trait_twice").size() == 1);
    CHECK(findings(with_node(body), "bad_trait_name").size() == 1);
  }
  SECTION("an unknown next node") {
    auto found = findings(with_node("    set: {a: 1}\n    next: dne\n"), "unknown_target");
    REQUIRE(found.size() == 1);
    CHECK(found[0].span.line == 8);
  }
  SECTION("a misspelt field") {
    dsl::LoadResult result = dsl::check_flow_text(
        with_node("    incremnt: {a: 1}\n    next: done\n"), "t.yaml", dsl::FlowSyntax::kYaml);
    REQUIRE(result.diagnostics.has_errors());
    CHECK_THAT(result.diagnostics.items()[0].message, Catch::Contains("increment"));
  }
}

TEST_CASE("update_profile writes set and incremented traits, then follows next",
          "[update_profile]") {
  auto flow = compile(load(kYaml, dsl::FlowSyntax::kYaml));
  Journey journey;
  journey.profile.set("orders", 3.0);
  journey.trigger_properties.set("total", 42.5);

  Decision decision = journey.run(*flow, "count", Input::entry());

  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "done");
  CHECK(decision.profile_update == R"({"tier":"gold","last_total":42.5,"orders":4})");
  CHECK(decision.reason ==
        R"(set tier = "gold"; set last_total = 42.5; increment orders by 1 to 4)");
}

TEST_CASE("update_profile counts a missing trait as 0", "[update_profile]") {
  auto flow = compile(load(kYaml, dsl::FlowSyntax::kYaml));
  Journey journey;  // no orders, no total

  Decision decision = journey.run(*flow, "count", Input::entry());

  CHECK(decision.profile_update == R"({"tier":"gold","last_total":null,"orders":1})");
}
