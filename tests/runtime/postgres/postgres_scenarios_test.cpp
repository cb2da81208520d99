// The runtime's scenario files (tests/runtime/scenarios) on PostgreSQL: the
// same runner as `trellis test`, each scenario on a new schema of the
// binary's private cluster.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "flow_loader.h"
#include "postgres/pg_cluster.h"
#include "runtime/scenario.h"
#include "runtime/store_url.h"

using namespace trellis;

namespace {

// Flow results (rollups, revenue, attribution: docs/results.md) are kept by
// the SQLite store only so far; scenario files that expect them (a `results:`
// section) are left out here until the PostgreSQL store keeps them too.
bool expects_results(const std::string& path) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("results:", 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("scenario files pass on PostgreSQL", "[.postgres]") {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TRELLIS_TEST_DIR) + "/scenarios")) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.substr(name.size() - 10) == ".test.yaml" &&
        !expects_results(entry.path().string()))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 14);
  const runtime::ScenarioStore on_postgres = [](const std::string&) {
    return runtime::store_factory(testing::PgCluster::shared().fresh_url()).value();
  };
  for (const std::string& file : files) {
    runtime::ScenarioResult r = runtime::run_scenario_file(file, testing::load_checked_flow,
                                                           on_postgres);
    INFO(file);
    for (const auto& f : r.failures) UNSCOPED_INFO(f);
    CHECK(r.passed);
  }
}
