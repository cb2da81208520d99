// Helpers of the flow DSL tests: files under tests/dsl, rendering diagnostics as
// `trellis check` prints them.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "dsl/ir/diagnostic.h"

namespace trellis::dsl::test {

inline std::string test_data(const std::string& relative) {
  return std::string(TRELLIS_TEST_DATA) + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Set TRELLIS_UPDATE_GOLDEN=1 to rewrite golden files after an intended change.
inline bool updating_golden() { return std::getenv("TRELLIS_UPDATE_GOLDEN") != nullptr; }

inline std::string render_all(const ir::Diagnostics& diagnostics, const std::string& source) {
  std::string out;
  for (const ir::Diagnostic& diagnostic : diagnostics.items())
    out += ir::render(diagnostic, source);
  return out;
}

}  // namespace trellis::dsl::test
