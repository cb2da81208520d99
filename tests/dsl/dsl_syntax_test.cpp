// Golden files of the flow DSL's own errors: each tests/dsl/dsl_syntax/NAME.flow
// is a broken .flow file and NAME.expected exactly what the DSL front end
// reports for it (file:line:col, message, source line, carets).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "dsl/dsl_loader.h"
#include "tests/dsl/dsl_test_support.h"

namespace fs = std::filesystem;
using namespace trellis;
using dsl::test::read_file;

TEST_CASE("every broken .flow in tests/dsl/dsl_syntax reports exactly its expected output") {
  std::vector<fs::path> flows;
  for (const auto& entry : fs::directory_iterator(dsl::test::test_data("dsl_syntax"))) {
    if (entry.path().extension() == ".flow") flows.push_back(entry.path());
  }
  std::sort(flows.begin(), flows.end());
  REQUIRE(flows.size() >= 15);
  for (const fs::path& path : flows) {
    std::string file = path.filename().string();
    std::string source = read_file(path.string());
    ir::Diagnostics diagnostics;
    (void)dsl::load_dsl(source, file, diagnostics);
    diagnostics.sort();
    std::string actual = dsl::test::render_all(diagnostics, source);
    fs::path expected = path;
    expected.replace_extension(".expected");
    if (dsl::test::updating_golden()) {
      dsl::test::write_file(expected.string(), actual);
      continue;
    }
    INFO(file);
    CHECK(actual == read_file(expected.string()));
    CHECK_FALSE(actual.empty());
  }
}
