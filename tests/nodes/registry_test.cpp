#include "nodes/registry.h"

#include <set>
#include <variant>

#include "dsl/ir/node_table.h"
#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;

namespace {

ir::Node default_node(ir::NodeKind kind) {
  ir::Node node;
  // NodeBody's alternatives follow NodeKind's order.
  switch (kind) {
    case ir::NodeKind::kSegment:
      node.body = ir::SegmentNode{};
      break;
    case ir::NodeKind::kWait:
      node.body = ir::WaitNode{};
      break;
    case ir::NodeKind::kCoupon:
      node.body = ir::CouponNode{};
      break;
    case ir::NodeKind::kSms:
      node.body = ir::SmsNode{};
      break;
    case ir::NodeKind::kEmail:
      node.body = ir::EmailNode{};
      break;
    case ir::NodeKind::kWebhook:
      node.body = ir::WebhookNode{};
      break;
    case ir::NodeKind::kAb:
      node.body = ir::AbNode{};
      break;
    case ir::NodeKind::kExit:
      node.body = ir::ExitNode{};
      break;
  }
  return node;
}

}  // namespace

TEST_CASE("every kind has one processor and one schema", "[registry]") {
  using ir::node_schemas;
  using ir::schema_for;
  // The table lists one row per alternative of the IR's node body, in order.
  REQUIRE(node_schemas().size() == std::variant_size_v<ir::NodeBody>);
  REQUIRE(node_schemas().size() == ir::all_node_kinds().size());
  for (ir::NodeKind kind : ir::all_node_kinds()) {
    INFO(ir::node_kind_name(kind));
    CHECK(processor_for(kind).kind() == kind);
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
  CHECK_THAT(json, Catch::Contains(R"({"type":"exit","label":"Exit","help":"End the journey.","fields":[]})"));
  CHECK_THAT(json, Catch::Contains(R"("widget":"weights")"));
  // A field's starting value is JSON itself, not a string holding JSON.
  CHECK_THAT(json, Catch::Contains(R"("initial":"1d"})"));
  CHECK_THAT(json, Catch::Contains(R"("initial":[{"name":"a","weight":50},)"));
  CHECK_THAT(json, Catch::Contains(R"({"name":"on_event","widget":"target","required":false,)"
                                   R"("one_of":"","required_with":"until_event",)"));
}
