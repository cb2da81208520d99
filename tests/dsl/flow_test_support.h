// Helpers shared by the flow front-end tests: reading files next to the
// sources, running the whole `trellis check` pipeline on text, and rendering
// diagnostics the way the CLI prints them.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "dsl/ir/diagnostic.h"
#include "dsl/load.h"

namespace trellis::test {

// TRELLIS_SOURCE_DIR is the repository root, set by tests/dsl/CMakeLists.txt.
inline std::string source_path(const std::string& relative) {
  return std::string(TRELLIS_SOURCE_DIR) + "/" + relative;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Loader and checker, as `trellis check` runs them, on an in-memory file.
inline dsl::LoadResult check_yaml(const std::string& text, const std::string& file = "t.yaml") {
  return dsl::check_flow_text(text, file, dsl::FlowSyntax::kYaml);
}

// Every diagnostic as the CLI prints it, carets included.
inline std::string render_all(const dsl::LoadResult& result) {
  std::string out;
  for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
    out += ir::render(diagnostic, result.source);
  }
  return out;
}

// When set, golden tests rewrite their expected files instead of comparing.
inline bool updating_golden_files() { return std::getenv("TRELLIS_UPDATE_GOLDEN") != nullptr; }

}  // namespace trellis::test
