// Structural equality of flows, ignoring source positions: the YAML and the DSL
// form of one flow must compile to the same IR, and tests want to know where two
// IRs part ways, not just that they do.
#pragma once

#include <string>

#include "dsl/ir/flow.h"

namespace trellis::ir {

// Compares everything a flow says (names, expressions with their source text and
// tree, templates, durations, comments, node order) except spans and `Flow::file`.
// Returns an empty string when equal, else the first difference as text, such as
// "node 'pick': match: source 'user.age > 30' vs 'user.age > 31'".
std::string same_flow(const Flow& a, const Flow& b);

}  // namespace trellis::ir
