// Golden files: each tests/dsl/diagnostics/NAME.yaml is a broken flow, and
// NAME.expected is exactly what `trellis check NAME.yaml` prints for it
// (positions, messages, source lines, carets). Regenerate after an intended
// change with TRELLIS_UPDATE_GOLDEN=1 and review the diff.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/dsl/flow_test_support.h"

namespace fs = std::filesystem;
using trellis::test::check_yaml;
using trellis::test::read_text;
using trellis::test::render_all;
using trellis::test::source_path;

namespace {

std::vector<fs::path> golden_flows() {
  std::vector<fs::path> flows;
  for (const auto& entry : fs::directory_iterator(source_path("tests/dsl/diagnostics"))) {
    if (entry.path().extension() == ".yaml") flows.push_back(entry.path());
  }
  std::sort(flows.begin(), flows.end());
  return flows;
}

}  // namespace

TEST_CASE("every bad flow in tests/dsl/diagnostics prints exactly its expected output") {
  std::vector<fs::path> flows = golden_flows();
  REQUIRE(flows.size() >= 20);
  for (const fs::path& flow : flows) {
    fs::path expected_path = flow;
    expected_path.replace_extension(".expected");
    std::string file = flow.filename().string();
    std::string actual = render_all(check_yaml(read_text(flow.string()), file));
    if (trellis::test::updating_golden_files()) {
      trellis::test::write_text(expected_path.string(), actual);
      continue;
    }
    INFO(file);
    REQUIRE(fs::exists(expected_path));
    CHECK(actual == read_text(expected_path.string()));
    // A golden file of a bad flow that reports nothing would pin nothing.
    CHECK_FALSE(actual.empty());
  }
}

TEST_CASE("every expected file has its flow beside it") {
  for (const auto& entry : fs::directory_iterator(source_path("tests/dsl/diagnostics"))) {
    if (entry.path().extension() != ".expected") continue;
    fs::path flow = entry.path();
    flow.replace_extension(".yaml");
    INFO(entry.path().filename().string());
    CHECK(fs::exists(flow));
  }
}
