// The one table of node kinds: each kind's name, one line of help and the
// fields it takes, in the order the printers write them. It sits in the IR
// layer, below both the front ends (dsl/) and the kinds' processors (nodes/),
// and every other list of kinds or fields is derived from it: the kind names
// (ir::node_kind_name), the YAML loader's and the DSL transformer's accepted
// keys (dsl/node_schema.h), the checker's required fields, and
// GET /v1/schema/nodes, from which the editor builds its palette and side
// panel. Adding a kind: docs/node-kinds.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/flow.h"

namespace trellis::ir {

// What editor widget a field needs.
enum class Widget {
  kDuration,    // "72h"
  kExpression,  // docs/expressions.md
  kTemplate,    // text with {{path}} placeholders
  kTarget,      // a node id
  kEvent,       // an event type, optionally {event, where}
  kWeights,     // ab variants: name -> {weight, next}
  kString,      // plain text (a pool name)
  kGenerate,    // coupon generate: {prefix, length}
  kTimeOfDay,   // a wall-clock time "HH:MM"
  kWeekdays,    // a set of weekdays: "mon" .. "sun"
  // Generic kinds' structured fields (docs/node-kinds.md):
  kBranches,     // an ordered list of {when: expression, next: node id}
  kExpressions,  // a mapping of names (profile traits) to expressions
};
std::string_view widget_name(Widget widget);  // "duration", "expression", ...

struct FieldSchema {
  std::string name;  // the YAML key: "for", "until_event", "next"
  Widget widget = Widget::kString;
  bool required = false;  // must be present on its own
  // Fields sharing a non-empty group: at least one of them is required
  // (wait: for / until_time / until_event; coupon: pool / generate).
  std::string one_of;
  std::string help;  // one line for the editor's form
  // Required when the named field is present (wait: `on_event` with
  // `until_event`, `next` with `for` or `until_time`: names joined by '|');
  // empty otherwise.
  std::string required_with;
  // The value a node added in the editor starts with, as JSON text ("\"1d\"");
  // empty: the field starts unset.
  std::string initial;
};

struct KindSchema {
  NodeKind kind;
  std::string name;                 // "segment"
  std::string label;                // for people: "A/B split"
  std::string help;                 // one line
  std::vector<FieldSchema> fields;  // in canonical order, `description` excluded
};

// All kinds, in all_node_kinds() order: the typed kinds in NodeKind order, then
// the generic ones, whose NodeKind value is their row's position.
const std::vector<KindSchema>& node_schemas();
const KindSchema& schema_for(NodeKind kind);

// node_schemas() as a JSON array:
// [{"type":"segment","label":"Segment","help":"...","fields":[{"name":"match",
//   "widget":"expression","required":true,"one_of":"","required_with":"",
//   "help":"...","initial":""}, ...]}, ...]; "initial" is omitted when empty,
// and otherwise the JSON value itself.
std::string node_schemas_json();

}  // namespace trellis::ir
