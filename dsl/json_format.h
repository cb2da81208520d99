// The flow IR as JSON (docs/ir-json.md), both ways, and diagnostics as JSON. The
// HTTP API and the browser editor exchange flows in this form; the editor never
// parses YAML or the DSL.
//
// Nothing here throws: flow_from_json reports every problem (a field of the wrong
// JSON type, an unknown node type, an expression that does not parse) as a
// diagnostic carrying the node id and field name, and returns what it could read.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

struct JsonOptions {
  // Add `"span": {"line": L, "column": C}` to each node with a known position, so
  // the editor can point at the source line. Input ignores spans.
  bool spans = false;
};

nlohmann::json flow_to_json(const ir::Flow& flow, const JsonOptions& options = {});

// Reads a flow; expressions, templates and durations are parsed from their source
// strings (dsl/parse.h). Elements get no positions (`line == 0`). `file` names the
// flow in diagnostics. The result is complete enough for the checker even when
// `diagnostics` holds errors.
ir::Flow flow_from_json(const nlohmann::json& json, const std::string& file,
                        ir::Diagnostics& diagnostics);

// {"severity", "file", "line", "column", "length", "message", "node", "field"}
nlohmann::json diagnostic_to_json(const ir::Diagnostic& diagnostic);
nlohmann::json diagnostics_to_json(const ir::Diagnostics& diagnostics);  // an array

}  // namespace trellis::dsl
