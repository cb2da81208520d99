// The body a front end starts a node with, before it reads the node's fields.
#pragma once

#include "dsl/ir/flow.h"

namespace trellis::ir {

// The body of a `kind` node with no field set.
NodeBody empty_body(NodeKind kind);

}  // namespace trellis::ir
