// Reading flow files of either syntax into the IR. The single place that maps a
// file to its front end: `.yaml`/`.yml` go to the YAML loader, `.flow` to the
// textual DSL. Every consumer (CLI, server, tests) loads flows through here so
// that a new syntax plugs in once.
//
// Nothing here throws; problems come back as diagnostics.
#pragma once

#include <optional>
#include <string>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

struct LoadResult {
  // The flow, as complete as the file allows; empty only when the text is not
  // a flow at all (unreadable, YAML syntax error, not a mapping).
  std::optional<ir::Flow> flow;
  ir::Diagnostics diagnostics;
  std::string source;    // the text read, so callers can render carets
  bool readable = true;  // false when the file could not be opened (a usage error)

  bool ok() const { return flow.has_value() && !diagnostics.has_errors(); }
};

enum class FlowSyntax { kYaml, kDsl };

// By extension: .yaml/.yml -> kYaml, .flow -> kDsl; nullopt for anything else.
std::optional<FlowSyntax> syntax_for_path(const std::string& path);

// Parses `text` in `syntax`; `file` is used in diagnostics and Flow::file.
LoadResult load_flow_text(const std::string& text, const std::string& file, FlowSyntax syntax);

// Reads `path` and parses it by its extension. An unreadable file or unknown
// extension gives readable=false (or an error diagnostic) and no flow.
LoadResult load_flow_file(const std::string& path);

// load_flow_text/load_flow_file followed by check_flow (checker.h): every
// diagnostic of the front end and the checker, sorted by position. Checker
// findings that repeat a front-end error on the same node and field are dropped.
// True when a front-end error may have cost the flow an edge (a node whose type
// or shape could not be read, an edge field that did not parse, an unknown key):
// then the checker's graph warnings would only echo that loss. An error in an
// expression or a text keeps every edge, so the other warnings stay.
bool front_end_lost_edges(const ir::Diagnostics& diagnostics);

LoadResult check_flow_text(const std::string& text, const std::string& file, FlowSyntax syntax);
LoadResult check_flow_file(const std::string& path);

}  // namespace trellis::dsl
