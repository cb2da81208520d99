// Loads flow files for the runtime tests through the real YAML loader and
// checker, as `trellis test` does.
#pragma once

#include <string>

#include "dsl/load.h"
#include "runtime/scenario.h"

namespace trellis::testing {

inline Result<runtime::LoadedFlow> load_checked_flow(const std::string& path) {
  dsl::LoadResult r = dsl::check_flow_file(path);
  if (!r.ok()) {
    std::string message = "does not check";
    for (const auto& d : r.diagnostics.items()) message += "\n" + ir::render(d, r.source);
    return Error{message};
  }
  return runtime::LoadedFlow{std::move(*r.flow), std::move(r.source)};
}

inline Result<ir::Flow> parse_stored_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow " + name + " does not load"};
  return std::move(*r.flow);
}

}  // namespace trellis::testing
