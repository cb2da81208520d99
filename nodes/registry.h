// The only place that lists the node kinds: their processors and, once, the
// fields each kind takes. The server serves the field table to editor-web as
// JSON so forms, docs and checker cannot drift apart (the checker still has the
// final say).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/flow.h"
#include "nodes/node.h"

namespace trellis::nodes {

// REQUIRES: `kind` is one of ir::all_node_kinds(). The processor lives for the
// whole process.
const NodeProcessor& processor_for(ir::NodeKind kind);

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
};

struct KindSchema {
  ir::NodeKind kind;
  std::string name;                 // "segment"
  std::string help;                 // one line
  std::vector<FieldSchema> fields;  // in canonical order, `description` excluded
};

// All kinds, in ir::all_node_kinds() order.
const std::vector<KindSchema>& node_schemas();
const KindSchema& schema_for(ir::NodeKind kind);

// node_schemas() as a JSON array:
// [{"type":"segment","help":"...","fields":[{"name":"match","widget":"expression",
//   "required":true,"one_of":"","required_with":"","help":"..."}, ...]}, ...]
std::string node_schemas_json();

}  // namespace trellis::nodes
