// Prints a flow in the textual DSL (`.flow`), canonical form: a `flow` block with
// the flow's settings, then one block per node in file order, a blank line
// between blocks, two-space indents, transitions as `field -> node`, comments of
// the flow, nodes and variants on the lines above them. Expressions print as
// their source text, strings quoted, names bare unless they need quotes.
// `trellis fmt --to dsl` is this; dsl/grammar/Trellis.g4 reads it back.
#pragma once

#include <string>

#include "dsl/ir/flow.h"

namespace trellis::dsl {

std::string format_dsl(const ir::Flow& flow);

// A string literal of the DSL: double quotes and backslash escapes, or single
// quotes when the text holds double quotes and no single ones.
std::string dsl_string(const std::string& text);

// A name (node id, event type, pool) bare when the DSL reads it back as a name,
// else as a string literal.
std::string dsl_name(const std::string& name);

}  // namespace trellis::dsl
