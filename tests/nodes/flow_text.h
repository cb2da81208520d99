// Flows read from text for the node kinds' tests, through the real front ends
// and checker: the same flow in YAML and the DSL, and the checker's findings.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dsl/load.h"

namespace trellis::nodes::testing {

// `text` read and checked; the test fails on any error (the messages shown).
inline ir::Flow load(const std::string& text, dsl::FlowSyntax syntax) {
  dsl::LoadResult result = dsl::check_flow_text(text, "test", syntax);
  for (const ir::Diagnostic& d : result.diagnostics.items()) UNSCOPED_INFO(d.message);
  REQUIRE(result.ok());
  return *result.flow;
}

// The diagnostics of `text` (YAML) with `code`.
inline std::vector<ir::Diagnostic> findings(const std::string& text, const std::string& code) {
  dsl::LoadResult result = dsl::check_flow_text(text, "test.yaml", dsl::FlowSyntax::kYaml);
  std::vector<ir::Diagnostic> out;
  for (const ir::Diagnostic& d : result.diagnostics.items()) {
    if (d.code == code) out.push_back(d);
  }
  return out;
}

}  // namespace trellis::nodes::testing
