// Which processor decides for each node kind. The kinds' names and fields are
// in the IR's table (dsl/ir/node_table.h); this list only joins each kind to
// its processor (docs/node-kinds.md).
#pragma once

#include <string_view>

#include "dsl/ir/flow.h"
#include "nodes/node.h"

namespace trellis::nodes {

// REQUIRES: `kind` is one of ir::all_node_kinds() and has a processor. The
// processor lives for the whole process.
const NodeProcessor& processor_for(ir::NodeKind kind);
// Null when no processor decides for `kind`.
const NodeProcessor* find_processor(ir::NodeKind kind);

// Registers the processor of a generic kind (one named in the table of kinds,
// dsl/ir/node_table.cpp, after the typed ones). Returns true; a second
// processor for a kind, or an unknown kind, aborts at start-up.
bool register_processor(const NodeProcessor& processor);

// The kind of the table's row named `name`; aborts at start-up when there is none.
ir::NodeKind kind_named(std::string_view name);

// In nodes/generic/<file>.cpp, `TRELLIS_NODE_KIND(<file>, Processor)` registers
// `Processor` at start-up. The build lists the folder's files and refers to
// each file's symbol (node_kind_list.cpp, generated), so the linker keeps every
// kind: adding a kind adds no line anywhere else (docs/node-kinds.md).
#define TRELLIS_NODE_KIND(file, Processor)    \
  namespace {                                 \
  const Processor kNodeKindProcessor;         \
  }                                           \
  extern const bool trellis_node_kind_##file; \
  const bool trellis_node_kind_##file = ::trellis::nodes::register_processor(kNodeKindProcessor)

}  // namespace trellis::nodes
