#include "dsl/ir/flow.h"

#include <array>

#include "dsl/ir/node_table.h"

namespace trellis::ir {

// The kinds' names come from the table of kinds (node_table.h), which lists
// them in NodeKind order.
std::string_view node_kind_name(NodeKind kind) { return schema_for(kind).name; }

std::optional<NodeKind> node_kind_from_name(std::string_view name) {
  for (const KindSchema& schema : node_schemas()) {
    if (schema.name == name) return schema.kind;
  }
  return std::nullopt;
}

const std::vector<NodeKind>& all_node_kinds() {
  static const std::vector<NodeKind> kKinds = [] {
    std::vector<NodeKind> kinds;
    for (const KindSchema& schema : node_schemas()) kinds.push_back(schema.kind);
    return kinds;
  }();
  return kKinds;
}

std::string_view edge_kind_field(EdgeKind kind) {
  switch (kind) {
    case EdgeKind::kNext:
      return "next";
    case EdgeKind::kYes:
      return "yes";
    case EdgeKind::kNo:
      return "no";
    case EdgeKind::kOnEvent:
      return "on_event";
    case EdgeKind::kOnExhausted:
      return "on_exhausted";
    case EdgeKind::kVariant:
      return "variants";
    case EdgeKind::kField:
      return "";
    case EdgeKind::kBranch:
      return "branches";
  }
  return "next";
}

std::vector<Edge> edges_of(const Node& node) {
  std::vector<Edge> edges;
  auto add = [&](EdgeKind kind, const Target& target) {
    edges.push_back(Edge{kind, std::string(edge_kind_field(kind)), &target});
  };
  if (auto* segment = node.as<SegmentNode>()) {
    add(EdgeKind::kYes, segment->yes);
    add(EdgeKind::kNo, segment->no);
  } else if (auto* wait = node.as<WaitNode>()) {
    add(EdgeKind::kNext, wait->next);
    add(EdgeKind::kOnEvent, wait->on_event);
  } else if (auto* coupon = node.as<CouponNode>()) {
    add(EdgeKind::kNext, coupon->next);
    add(EdgeKind::kOnExhausted, coupon->on_exhausted);
  } else if (auto* sms = node.as<SmsNode>()) {
    add(EdgeKind::kNext, sms->next);
  } else if (auto* email = node.as<EmailNode>()) {
    add(EdgeKind::kNext, email->next);
  } else if (auto* webhook = node.as<WebhookNode>()) {
    add(EdgeKind::kNext, webhook->next);
  } else if (auto* ab = node.as<AbNode>()) {
    size_t index = 0;
    for (const Variant& variant : ab->variants) {
      edges.push_back(
          Edge{EdgeKind::kVariant, variant.name.value, &variant.next, variant.weight, index++});
    }
  } else if (auto* generic = node.as<GenericNode>()) {
    add_generic_edges(node.kind(), *generic, edges);
  }
  return edges;
}

// A generic kind's edges come from its table row: each target field, set or
// not, and each branch of a list of branches, labelled by its condition.
void add_generic_edges(NodeKind kind, const GenericNode& node, std::vector<Edge>& edges) {
  static const Target kUnset;
  for (const FieldSchema& field : schema_for(kind).fields) {
    if (field.widget == Widget::kTarget) {
      const Target* target = node.get<Name>(field.name);
      EdgeKind edge = field.name == "next" ? EdgeKind::kNext : EdgeKind::kField;
      edges.push_back(Edge{edge, field.name, target ? target : &kUnset});
    } else if (field.widget == Widget::kBranches) {
      const auto* branches = node.get<std::vector<Branch>>(field.name);
      if (!branches) continue;
      for (size_t i = 0; i < branches->size(); ++i) {
        const Branch& branch = (*branches)[i];
        edges.push_back(Edge{EdgeKind::kBranch, branch_label(branch, i), &branch.next, 0, i});
      }
    }
  }
}

std::string branch_label(const Branch& branch, size_t index) {
  if (branch.when && !branch.when->source.empty()) return branch.when->source;
  return "branch " + std::to_string(index + 1);
}

const GenericField* GenericNode::find(std::string_view name) const {
  for (const GenericField& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

GenericField* GenericNode::find(std::string_view name) {
  return const_cast<GenericField*>(static_cast<const GenericNode&>(*this).find(name));
}

void GenericNode::set(std::string name, SourceSpan span, FieldValue value) {
  if (GenericField* field = find(name)) {
    field->span = span;
    field->value = std::move(value);
    return;
  }
  fields.push_back(GenericField{std::move(name), span, std::move(value)});
}

const Node* Flow::find_node(std::string_view id) const {
  for (const Node& node : nodes) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

Node* Flow::find_node(std::string_view id) {
  return const_cast<Node*>(static_cast<const Flow&>(*this).find_node(id));
}

std::string_view flow_category_name(FlowCategory category) {
  return category == FlowCategory::kTransactional ? "transactional" : "marketing";
}

std::optional<FlowCategory> flow_category_from_name(std::string_view name) {
  if (name == "marketing") return FlowCategory::kMarketing;
  if (name == "transactional") return FlowCategory::kTransactional;
  return std::nullopt;
}

int64_t Goal::window_seconds() const {
  return within && within->seconds > 0 ? within->seconds : kDefaultGoalWindowSeconds;
}

int schedule_period_days(std::string_view every) {
  if (every == "day") return 1;
  if (every == "week") return 7;
  return 0;
}

std::optional<int> priority_from_text(std::string_view text) {
  if (text == "high") return 80;
  if (text == "normal") return 50;
  if (text == "low") return 20;
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > 100) return std::nullopt;
  return value;
}

FlowCategory Flow::category_value() const {
  if (!category) return FlowCategory::kMarketing;
  return flow_category_from_name(category->value).value_or(FlowCategory::kMarketing);
}

int Flow::priority_value() const {
  if (!priority) return 50;
  return priority_from_text(priority->value).value_or(50);
}

CapPolicy Flow::on_cap_value() const {
  return on_cap && on_cap->value == "skip" ? CapPolicy::kSkip : CapPolicy::kDefer;
}

std::string Path::text() const {
  static constexpr std::array<std::string_view, 4> kRoots = {"user", "event", "last_event",
                                                             "coupon"};
  std::string out(kRoots[static_cast<size_t>(root)]);
  for (const std::string& segment : segments) out += "." + segment;
  return out;
}

}  // namespace trellis::ir
