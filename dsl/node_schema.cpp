#include "dsl/node_schema.h"

#include "dsl/ir/node_table.h"

namespace trellis::dsl {

namespace {

constexpr Requirement kRequired = Requirement::kRequired;
constexpr Requirement kOptional = Requirement::kOptional;
constexpr Requirement kConditional = Requirement::kConditional;

FieldType field_type(ir::Widget widget) {
  switch (widget) {
    case ir::Widget::kDuration:
      return FieldType::kDuration;
    case ir::Widget::kExpression:
      return FieldType::kExpression;
    case ir::Widget::kTemplate:
      return FieldType::kTemplate;
    case ir::Widget::kTarget:
      return FieldType::kTarget;
    case ir::Widget::kEvent:
      return FieldType::kEventFilter;
    case ir::Widget::kWeights:
      return FieldType::kVariants;
    case ir::Widget::kString:
      return FieldType::kName;
    case ir::Widget::kGenerate:
      return FieldType::kGenerate;
    case ir::Widget::kTimeOfDay:
      return FieldType::kTimeOfDay;
    case ir::Widget::kWeekdays:
      return FieldType::kWeekdays;
    case ir::Widget::kBranches:
      return FieldType::kBranches;
    case ir::Widget::kExpressions:
      return FieldType::kExpressionMap;
  }
  return FieldType::kText;
}

// The node kinds' fields come from the table of kinds (dsl/ir/node_table.h),
// the one the editor is served too; every kind also has `type` and `description`.
std::vector<NodeSchema> build_schemas() {
  std::vector<NodeSchema> schemas;
  for (const ir::KindSchema& kind : ir::node_schemas()) {
    NodeSchema schema{kind.kind, kind.help, {}};
    schema.fields.push_back({"type", FieldType::kNodeType, kRequired, "what the node does"});
    schema.fields.push_back(
        {"description", FieldType::kText, kOptional, "a note for people reading the flow"});
    for (const ir::FieldSchema& field : kind.fields) {
      Requirement requirement = field.required          ? kRequired
                                : !field.one_of.empty() ? kConditional
                                                        : kOptional;
      schema.fields.push_back({field.name, field_type(field.widget), requirement, field.help});
    }
    schemas.push_back(std::move(schema));
  }
  return schemas;
}

}  // namespace

const std::vector<NodeSchema>& node_schemas() {
  static const std::vector<NodeSchema> kSchemas = build_schemas();
  return kSchemas;
}

const NodeSchema& node_schema(ir::NodeKind kind) {
  // build_schemas lists the kinds in NodeKind order.
  return node_schemas()[static_cast<size_t>(kind)];
}

const std::vector<FieldSpec>& flow_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"flow", FieldType::kName, kRequired, "the flow's name"},
      {"description", FieldType::kText, kOptional, "what the flow is for"},
      {"trigger", FieldType::kTrigger, kRequired, "the event that starts a journey"},
      {"re_entry", FieldType::kReEntry, kOptional, "never | always | after <duration>"},
      {"exit_on", FieldType::kEventTypes, kOptional, "events that end the journey anywhere"},
      {"goal", FieldType::kEventType, kOptional,
       "event that counts as a conversion, or {event, where, within, value}"},
      {"category", FieldType::kName, kOptional, "marketing (default) | transactional"},
      {"priority", FieldType::kName, kOptional, "high | normal (default) | low | 0..100"},
      {"on_cap", FieldType::kName, kOptional, "defer (default) | skip: a message over a cap"},
      {"start", FieldType::kTarget, kRequired, "the first node"},
      {"nodes", FieldType::kNodes, kRequired, "the nodes, by id"},
  };
  return kFields;
}

const std::vector<FieldSpec>& trigger_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"event", FieldType::kEventType, kConditional,
       "event type that starts a journey (or a schedule)"},
      {"when", FieldType::kExpression, kOptional, "condition on the trigger event"},
      {"key", FieldType::kExpression, kOptional, "one journey per value (e.g. event.cart_id)"},
      {"schedule", FieldType::kText, kConditional,
       "\"YYYY-MM-DD HH:MM\": enter an audience then instead of on an event"},
      {"audience", FieldType::kExpression, kOptional,
       "which profiles a schedule enters (default: all)"},
      {"every", FieldType::kName, kOptional, "day | week: repeat the schedule"},
      {"in_user_time_zone", FieldType::kBoolean, kOptional,
       "true: the schedule's time in each user's own time zone"},
  };
  return kFields;
}

const std::vector<FieldSpec>& generate_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"prefix", FieldType::kText, kOptional, "text before the random part"},
      {"length", FieldType::kInteger, kOptional, "length of the random part (default 8)"},
  };
  return kFields;
}

const std::vector<FieldSpec>& variant_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"weight", FieldType::kNumber, kRequired, "relative share of users"},
      {"next", FieldType::kTarget, kRequired, "node for this variant"},
  };
  return kFields;
}

const std::vector<FieldSpec>& event_filter_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"event", FieldType::kEventType, kRequired, "event type to wait for"},
      {"where", FieldType::kExpression, kOptional, "condition on the awaited event"},
  };
  return kFields;
}

const std::vector<FieldSpec>& branch_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"when", FieldType::kExpression, kRequired, "the condition of this branch"},
      {"next", FieldType::kTarget, kRequired, "node when the condition holds"},
  };
  return kFields;
}

const std::vector<FieldSpec>& goal_fields() {
  static const std::vector<FieldSpec> kFields = {
      {"event", FieldType::kEventType, kRequired, "event type that counts as a conversion"},
      {"where", FieldType::kExpression, kOptional, "condition on the goal event"},
      {"within", FieldType::kDuration, kOptional, "window from the journey's entry (default 7d)"},
      {"value", FieldType::kExpression, kOptional, "revenue of a conversion (e.g. event.revenue)"},
  };
  return kFields;
}

const FieldSpec* find_field(const std::vector<FieldSpec>& fields, std::string_view name) {
  for (const FieldSpec& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string_view field_type_name(FieldType type) {
  switch (type) {
    case FieldType::kText:
      return "text";
    case FieldType::kName:
      return "name";
    case FieldType::kEventType:
      return "event_type";
    case FieldType::kEventTypes:
      return "event_types";
    case FieldType::kEventFilter:
      return "event_filter";
    case FieldType::kTarget:
      return "target";
    case FieldType::kExpression:
      return "expression";
    case FieldType::kTemplate:
      return "template";
    case FieldType::kDuration:
      return "duration";
    case FieldType::kReEntry:
      return "re_entry";
    case FieldType::kNumber:
      return "number";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kTrigger:
      return "trigger";
    case FieldType::kGenerate:
      return "generate";
    case FieldType::kVariants:
      return "variants";
    case FieldType::kNodes:
      return "nodes";
    case FieldType::kNodeType:
      return "node_type";
    case FieldType::kTimeOfDay:
      return "time_of_day";
    case FieldType::kWeekdays:
      return "weekdays";
    case FieldType::kBranches:
      return "branches";
    case FieldType::kExpressionMap:
      return "expression_map";
    case FieldType::kBoolean:
      return "boolean";
  }
  return "text";
}

std::string_view requirement_name(Requirement requirement) {
  switch (requirement) {
    case Requirement::kRequired:
      return "required";
    case Requirement::kOptional:
      return "optional";
    case Requirement::kConditional:
      return "conditional";
  }
  return "optional";
}

}  // namespace trellis::dsl
