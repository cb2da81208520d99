// Prints a flow as canonical YAML (docs/flows.md): keys in the documented order, block
// style throughout except `exit_on`, two-space indents, quotes only where YAML
// needs them, comments of the flow, nodes and variants on the lines above them.
// Expressions, templates and durations print as their source text, so
// loading the output gives back the same IR. `trellis fmt --to yaml` is this.
#pragma once

#include <string>

#include "dsl/ir/flow.h"

namespace trellis::dsl {

std::string format_yaml(const ir::Flow& flow);

// A scalar as YAML needs it after `key: ` in block context: plain when that reads
// back as the same string, else quoted. Exposed for tests.
std::string yaml_scalar(const std::string& text);

}  // namespace trellis::dsl
