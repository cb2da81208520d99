#include "dsl/ir/diagnostic.h"

#include <catch2/catch.hpp>

using trellis::ir::Diagnostic;
using trellis::ir::Severity;

TEST_CASE("render prints file:line:col, the source line and carets under the span") {
  Diagnostic d{Severity::kError, "flows/x.yaml", {2, 11, 0, 4}, "unknown node 'pcik'", "", ""};
  std::string source = "start: a\nnext:     pcik\n";
  CHECK(trellis::ir::render(d, source) ==
        "flows/x.yaml:2:11: error: unknown node 'pcik'\n"
        "  next:     pcik\n"
        "            ^^^^\n");
}

TEST_CASE("render without a position prints only the message line") {
  Diagnostic d{Severity::kWarning, "f.yaml", {}, "something", "", ""};
  CHECK(trellis::ir::render(d, "x") == "f.yaml: warning: something\n");
}

TEST_CASE("diagnostics count errors and warnings and sort by position") {
  trellis::ir::Diagnostics all;
  all.warning("a", {3, 1, 0, 1}, "w");
  all.error("a", {1, 5, 0, 1}, "e");
  CHECK(all.error_count() == 1);
  CHECK(all.warning_count() == 1);
  all.sort();
  CHECK(all.items().front().message == "e");
}
