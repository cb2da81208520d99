// The textual flow DSL (`flows/<name>.flow`, README "The flow DSL") into the
// flow IR: the same ir::Flow the YAML loader makes, with positions in the .flow
// file, so the checker and everything after it never knows which syntax a flow
// came from.
//
// A syntax error yields one diagnostic in the user's words ("expected '->' after
// 'next'") and no flow: the text is not a flow, and a checker run over a partial
// one would only add echoes of the syntax error. Without syntax errors every
// problem the DSL itself can see (an unknown node type or field, a field given
// twice, a bad duration or expression) is reported, and the checker can do the
// rest. Nothing here throws.
#pragma once

#include <optional>
#include <string>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

// `source` is the whole file; `file` names it in diagnostics and in Flow::file.
std::optional<ir::Flow> load_dsl(const std::string& source, const std::string& file,
                                 ir::Diagnostics& diagnostics);

}  // namespace trellis::dsl
