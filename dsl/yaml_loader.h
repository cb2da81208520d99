// The YAML front end (docs/flows.md): flow files to ir::Flow, through yaml-cpp.
//
// Reports what only the file's syntax can tell: YAML syntax errors, unknown or
// duplicate keys, values of the wrong shape, unknown node types, and syntax
// errors inside expressions, templates and durations, each at the exact token.
// Whether the flow makes sense (targets, reachability, cycles) is the
// checker's job. Comment lines directly above `flow:` and above each node and
// variant key are kept in the IR for `fmt`. Nothing here throws.
#pragma once

#include <string>

#include "dsl/load.h"

namespace trellis::dsl {

LoadResult load_flow_yaml(const std::string& text, const std::string& file);

}  // namespace trellis::dsl
