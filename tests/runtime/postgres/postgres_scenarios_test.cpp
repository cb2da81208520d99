// The runtime's scenario files (tests/runtime/scenarios) on PostgreSQL: the
// same runner as `trellis test`, each scenario on a new schema of the
// binary's private cluster.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "flow_loader.h"
#include "postgres/pg_cluster.h"
#include "runtime/scenario.h"
#include "runtime/store_url.h"

using namespace trellis;

TEST_CASE("scenario files pass on PostgreSQL", "[.postgres]") {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TRELLIS_TEST_DIR) + "/scenarios")) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.substr(name.size() - 10) == ".test.yaml")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 14);
  const runtime::ScenarioStore on_postgres = [](const std::string&) {
    return runtime::store_factory(testing::PgCluster::shared().fresh_url()).value();
  };
  for (const std::string& file : files) {
    runtime::ScenarioResult r =
        runtime::run_scenario_file(file, testing::load_checked_flow, on_postgres);
    INFO(file);
    for (const auto& f : r.failures) UNSCOPED_INFO(f);
    CHECK(r.passed);
  }
}
