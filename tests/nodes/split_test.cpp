// split (nodes/generic/split.cpp): the same flow in YAML and the DSL, `fmt` both
// ways, the checker's findings with positions, the edges and the decisions.
#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "fixtures.h"
#include "flow_text.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

namespace {

const char* const kYaml = R"(flow: route_orders
trigger:
  event: order_paid
re_entry: always
start: pick
nodes:
  pick:
    type: split
    branches:
      - { when: user.orders >= 5, next: vip }
      - { when: event.total > 100, next: big }
    default: plain
  vip:
    type: exit
  big:
    type: exit
  plain:
    type: exit
)";

const char* const kDsl = R"(flow route_orders {
  trigger order_paid
  re_entry always
  start -> pick
}

pick: split {
  when user.orders >= 5 -> vip
  when event.total > 100 -> big
  default -> plain
}

vip: exit

big: exit

plain: exit
)";

std::string with_node(const std::string& body) {
  return "flow: f\ntrigger: {event: order_paid}\nstart: pick\nnodes:\n  pick:\n"
         "    type: split\n" +
         body + "  vip: {type: exit}\n  plain: {type: exit}\n";
}

}  // namespace

TEST_CASE("split reads the same from YAML and the DSL", "[split]") {
  CHECK(ir::same_flow(load(kYaml, dsl::FlowSyntax::kYaml), load(kDsl, dsl::FlowSyntax::kDsl))
            .empty());
}

TEST_CASE("split survives fmt in both syntaxes", "[split]") {
  ir::Flow yaml = load(kYaml, dsl::FlowSyntax::kYaml);
  CHECK(dsl::format_yaml(yaml) == kYaml);
  std::string as_dsl = dsl::format_dsl(yaml);
  CHECK(as_dsl == kDsl);
  CHECK(ir::same_flow(yaml, load(as_dsl, dsl::FlowSyntax::kDsl)).empty());
}

TEST_CASE("split's edges are its branches, labelled by condition, then default", "[split]") {
  ir::Flow flow = load(kYaml, dsl::FlowSyntax::kYaml);
  std::vector<ir::Edge> edges = ir::edges_of(flow.nodes[0]);
  REQUIRE(edges.size() == 3);
  CHECK(edges[0].kind == ir::EdgeKind::kBranch);
  CHECK(edges[0].label == "user.orders >= 5");
  CHECK(edges[0].target->value == "vip");
  CHECK(edges[1].label == "event.total > 100");
  CHECK(edges[2].label == "default");
  CHECK(edges[2].target->value == "plain");
}

TEST_CASE("the checker judges split's fields with positions", "[split]") {
  SECTION("no default") {
    auto found =
        findings(with_node("    branches: [{when: user.vip, next: vip}]\n"), "missing_field");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "default");
    CHECK(found[0].span.line == 5);
  }
  SECTION("no branches") {
    auto found = findings(with_node("    default: plain\n"), "missing_field");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "branches");
  }
  SECTION("a condition that is never true or false") {
    auto found = findings(
        with_node("    branches:\n      - {when: \"'vip'\", next: vip}\n    default: plain\n"),
        "not_a_condition");
    REQUIRE(found.size() == 1);
    CHECK(found[0].span.line == 8);
    CHECK(found[0].field == "branches.0.when");
    CHECK_THAT(found[0].message, Catch::Contains("always a string"));
  }
  SECTION("a branch to a missing node") {
    auto found = findings(
        with_node("    branches:\n      - {when: user.vip, next: vp}\n    default: plain\n"),
        "unknown_target");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "branches.0.next");
    CHECK(found[0].span.line == 8);
    CHECK_THAT(found[0].message, Catch::Contains("did you mean 'vip'"));
  }
  SECTION("a node only a branch reached is unreachable without it") {
    auto found = findings(with_node("    branches: [{when: user.vip, next: plain}]\n"
                                    "    default: plain\n"),
                          "unreachable");
    REQUIRE(found.size() == 1);
    CHECK(found[0].node == "vip");
  }
  SECTION("a branch without a condition") {
    dsl::LoadResult result =
        dsl::check_flow_text(with_node("    branches: [{next: vip}]\n    default: plain\n"),
                             "t.yaml", dsl::FlowSyntax::kYaml);
    REQUIRE(result.diagnostics.has_errors());
    CHECK_THAT(result.diagnostics.items()[0].message, Catch::Contains("'when'"));
  }
}

TEST_CASE("split takes the first branch that holds and names it", "[split]") {
  auto flow = compile(load(kYaml, dsl::FlowSyntax::kYaml));
  Journey journey;
  journey.profile.set("orders", 7.0);
  journey.trigger_properties.set("total", 150.0);  // the second branch holds too

  Decision decision = journey.run(*flow, "pick", Input::entry());

  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "vip");
  CHECK(decision.edge == "user.orders >= 5");
  CHECK(decision.reason == "branch 1 (user.orders >= 5) held: user.orders = 7");
}

TEST_CASE("split tries the branches in order, then default", "[split]") {
  auto flow = compile(load(kYaml, dsl::FlowSyntax::kYaml));
  Journey journey;
  journey.profile.set("orders", 1.0);
  journey.trigger_properties.set("total", 150.0);
  Decision second = journey.run(*flow, "pick", Input::entry());
  CHECK(second.next == "big");
  CHECK(second.reason == "branch 2 (event.total > 100) held: event.total = 150");

  journey.trigger_properties.set("total", 20.0);
  Decision none = journey.run(*flow, "pick", Input::entry());
  CHECK(none.next == "plain");
  CHECK(none.edge == "default");
  CHECK(none.reason == "no branch held, default: user.orders = 1, event.total = 20");
}
