// Which processor decides for each node kind. The kinds' names and fields are
// in the IR's table (dsl/ir/node_table.h); this list only joins each kind to
// its processor (docs/node-kinds.md).
#pragma once

#include "dsl/ir/flow.h"
#include "nodes/node.h"

namespace trellis::nodes {

// REQUIRES: `kind` is one of ir::all_node_kinds(). The processor lives for the
// whole process.
const NodeProcessor& processor_for(ir::NodeKind kind);

}  // namespace trellis::nodes
