#include "nodes/registry.h"

#include <set>

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
    for (const FieldSchema& field : schema_for(kind).fields) {
      if (field.widget == Widget::kTarget) from_schema.insert(field.name);
    }
    CHECK(from_schema == from_ir);
  }
}

TEST_CASE("node schemas serialise to JSON for the editor", "[registry]") {
  std::string json = node_schemas_json();
  CHECK(json.front() == '[');
  CHECK(json.back() == ']');
  CHECK_THAT(json, Catch::Contains(
                       R"({"name":"for","widget":"duration","required":false,"one_of":"wait",)"));
  CHECK_THAT(json, Catch::Contains(R"({"type":"exit","help":"End the journey.","fields":[]})"));
  CHECK_THAT(json, Catch::Contains(R"("widget":"weights")"));
  CHECK_THAT(json, Catch::Contains(R"({"name":"on_event","widget":"target","required":false,)"
                                   R"("one_of":"","required_with":"until_event",)"));
}
