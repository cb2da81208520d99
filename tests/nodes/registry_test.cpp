#include "nodes/registry.h"

#include <set>
#include <variant>

#include "dsl/ir/node_body.h"
#include "dsl/ir/node_table.h"
#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;

namespace {

ir::Node default_node(ir::NodeKind kind) {
  ir::Node node;
  node.body = ir::empty_body(kind);
  return node;
}

}  // namespace

TEST_CASE("every kind has one processor and one schema", "[registry]") {
  using ir::node_schemas;
  using ir::schema_for;
  // The table lists one row per typed alternative of the IR's node body, in
  // order, then the generic kinds, which share the last alternative.
  REQUIRE(node_schemas().size() >= std::variant_size_v<ir::NodeBody> - 1);
  REQUIRE(std::variant_size_v<ir::NodeBody> - 1 == static_cast<size_t>(ir::kFirstGenericKind));
  REQUIRE(node_schemas().size() == ir::all_node_kinds().size());
  for (ir::NodeKind kind : ir::all_node_kinds()) {
    INFO(ir::node_kind_name(kind));
    CHECK(processor_for(kind).kind() == kind);
    CHECK(default_node(kind).kind() == kind);
    CHECK(schema_for(kind).kind == kind);
    CHECK(schema_for(kind).name == ir::node_kind_name(kind));
  }
}

TEST_CASE("the schema lists exactly the IR's outgoing slots as targets", "[registry]") {
  for (ir::NodeKind kind : ir::all_node_kinds()) {
    INFO(ir::node_kind_name(kind));
    ir::Node node = default_node(kind);
    std::set<std::string> from_ir;
    for (const ir::Edge& edge : ir::edges_of(node)) from_ir.insert(edge.label);
    std::set<std::string> from_schema;
    for (const ir::FieldSchema& field : ir::schema_for(kind).fields) {
      if (field.widget == ir::Widget::kTarget) from_schema.insert(field.name);
    }
    CHECK(from_schema == from_ir);
  }
}

TEST_CASE("node schemas serialise to JSON for the editor", "[registry]") {
  std::string json = ir::node_schemas_json();
  CHECK(json.front() == '[');
  CHECK(json.back() == ']');
  CHECK_THAT(json, Catch::Contains(
                       R"({"name":"for","widget":"duration","required":false,"one_of":"wait",)"));
  CHECK_THAT(json, Catch::Contains(
                       R"({"type":"exit","label":"Exit","help":"End the journey.","fields":[]})"));
  CHECK_THAT(json, Catch::Contains(R"("widget":"weights")"));
  // A field's starting value is JSON itself, not a string holding JSON.
  CHECK_THAT(json, Catch::Contains(R"("initial":"1d"})"));
  CHECK_THAT(json, Catch::Contains(R"("initial":[{"name":"a","weight":50},)"));
  CHECK_THAT(json, Catch::Contains(R"({"name":"on_event","widget":"target","required":false,)"
                                   R"("one_of":"","required_with":"until_event",)"));
}

// What the runtime used to decide by kind is in the decision (docs/node-kinds.md).
TEST_CASE("the decision says how a journey ends and which variant it took", "[registry]") {
  using namespace trellis::nodes::testing;
  ir::AbNode ab;
  ab.variants = {variant("a", 1, "done"), variant("b", 1, "")};
  ir::SegmentNode segment;
  segment.match = expression("true");
  segment.yes = name("nudge");
  ir::WaitNode wait;
  wait.wait_for = duration(60, "1m");
  wait.next = name("done");
  auto flow = compile(flow_of("f", {node("pick", segment), node("nudge", ab), node("w", wait)}));
  Journey journey;

  Decision exit = journey.run(*flow, "done", Input::entry());
  CHECK(exit.transition == Transition::kEnd);
  CHECK(exit.ending == Ending::kCompleted);

  // A segment whose `no` is missing cannot go on: the journey fails.
  ir::SegmentNode without_no;
  without_no.match = expression("false");
  without_no.yes = name("done");
  auto no_target = compile(flow_of("g", {node("pick", without_no)}));
  Decision stuck = journey.run(*no_target, "pick", Input::entry());
  CHECK(stuck.transition == Transition::kEnd);
  CHECK(stuck.ending == Ending::kFailed);

  // Users land in both variants; the one taken is the decision's variant, and
  // the variant without a target ends the journey without recording one.
  std::set<std::string> variants;
  int ended = 0;
  for (int i = 0; i < 40; ++i) {
    journey.user = "u" + std::to_string(i);
    Decision d = journey.run(*flow, "nudge", Input::entry());
    if (d.transition == Transition::kNext) {
      CHECK(d.variant == d.edge);
      variants.insert(d.variant);
    } else {
      ++ended;
      CHECK(d.variant.empty());
    }
  }
  CHECK(variants == std::set<std::string>{"a"});
  CHECK(ended > 0);

  Decision go = journey.run(*flow, "pick", Input::entry());
  CHECK(go.transition == Transition::kNext);
  CHECK(go.variant.empty());
}

TEST_CASE("only nodes that read traits ask for the profile", "[registry]") {
  using namespace trellis::nodes::testing;
  ir::WaitNode plain;
  plain.wait_for = duration(60, "1m");
  ir::WaitNode clock;
  clock.until_time = ir::LocalTimeOfDay{600, "10:00", {}};
  ir::SmsNode sms;
  sms.text = text("Hi");
  ir::AbNode ab;
  ab.variants = {variant("a", 1, "done")};
  auto flow = compile(flow_of(
      "f", {node("plain", plain), node("clock", clock), node("sms", sms), node("nudge", ab)}));
  CHECK_FALSE(flow->find("plain")->reads_profile);
  CHECK(flow->find("clock")->reads_profile);  // user.timezone
  CHECK(flow->find("sms")->reads_profile);
  CHECK_FALSE(flow->find("nudge")->reads_profile);
  CHECK_FALSE(flow->find("done")->reads_profile);
}
