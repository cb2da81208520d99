// Which keys a flow file and each node kind has, what each key holds and
// whether it is required. The YAML loader accepts exactly these keys and the
// checker reports the missing required ones. The node kinds' fields are not
// listed here: they come from the table of kinds (dsl/ir/node_table.h), the one
// the editor is served as well, so forms, loader and checker cannot drift
// (docs/node-kinds.md). This file adds the flow-level keys and the nested ones.
#pragma once

#include <string_view>
#include <vector>

#include "dsl/ir/flow.h"

namespace trellis::dsl {

// What a key's value is. The loader picks its reader by this.
enum class FieldType {
  kText,         // plain text (descriptions)
  kName,         // an identifier-like name: flow name, coupon pool, variant name
  kEventType,    // an event type such as `order_paid`
  kEventTypes,   // one event type or a list of them (`exit_on`)
  kEventFilter,  // an event type, or {event: type, where: expression}
  kTarget,       // a node id
  kExpression,   // docs/expressions.md
  kTemplate,     // text with {{path}} placeholders
  kDuration,     // 72h, PT72H
  kReEntry,      // never | always | after <duration>
  kNumber,
  kInteger,
  kTrigger,        // {event, when, key}
  kGenerate,       // {prefix, length}
  kVariants,       // {name: {weight, next}}
  kNodes,          // {id: node}
  kNodeType,       // one of the node kinds
  kTimeOfDay,      // "HH:MM", a wall-clock time in the user's time zone
  kWeekdays,       // one weekday or a list of them: mon .. sun
  kBranches,       // [{when: expression, next: node}, ...]
  kExpressionMap,  // {name: expression, ...}
  kBoolean,        // true | false
};

enum class Requirement {
  kRequired,
  kOptional,
  // Required in some combinations only (see `note`); the checker has the rule.
  kConditional,
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  Requirement requirement;
  std::string_view note;  // one line for users: what the key does
};

// Fields of one node kind, in the canonical order `fmt` writes them: `type`
// and `description`, then the table's fields.
struct NodeSchema {
  ir::NodeKind kind;
  std::string_view summary;  // what the node does, one line
  std::vector<FieldSpec> fields;
};

const std::vector<NodeSchema>& node_schemas();
const NodeSchema& node_schema(ir::NodeKind kind);
// The top-level keys of a flow file, in canonical order.
const std::vector<FieldSpec>& flow_fields();
const std::vector<FieldSpec>& trigger_fields();
const std::vector<FieldSpec>& generate_fields();
const std::vector<FieldSpec>& variant_fields();
const std::vector<FieldSpec>& event_filter_fields();
const std::vector<FieldSpec>& branch_fields();  // one item of a list of branches
const std::vector<FieldSpec>& goal_fields();    // `goal:` as a mapping

// nullptr when `fields` has no key `name`.
const FieldSpec* find_field(const std::vector<FieldSpec>& fields, std::string_view name);

std::string_view field_type_name(FieldType type);            // "target", "expression", ...
std::string_view requirement_name(Requirement requirement);  // "required", ...

}  // namespace trellis::dsl
