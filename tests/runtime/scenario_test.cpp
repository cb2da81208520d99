// Runs every scenario file under tests/runtime/scenarios through the same
// runner as `trellis test`, and checks that the runner really fails a wrong
// expectation.
#include "runtime/scenario.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "flow_loader.h"
#include "temp_dir.h"

using namespace trellis;

namespace {

std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TRELLIS_TEST_DIR) + "/scenarios")) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.substr(name.size() - 10) == ".test.yaml")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("scenario files pass") {
  const auto files = scenario_files();
  REQUIRE(files.size() >= 14);
  for (const std::string& file : files) {
    runtime::ScenarioResult r = runtime::run_scenario_file(file, testing::load_checked_flow);
    INFO(file);
    for (const auto& f : r.failures) UNSCOPED_INFO(f);
    CHECK(r.passed);
  }
}

TEST_CASE("a scenario whose expectation differs fails and says how") {
  testing::TempDir dir;
  const std::string flows = std::string(TRELLIS_TEST_DIR) + "/scenarios/flows";
  const std::string file = dir.file("wrong.test.yaml");
  std::ofstream(file) << "flow: " << flows << "/welcome_never.yaml\n"
                      << "users: {u1: {phone: '+47'}}\n"
                      << "events:\n  - {at: 0s, type: signup, user: u1}\n"
                      << "expect:\n  - {at: 5s, channel: email, user: u1, node: hello}\n"
                      << "  - {at: 9s, channel: sms, user: u1}\n";
  runtime::ScenarioResult r = runtime::run_scenario_file(file, testing::load_checked_flow);
  CHECK_FALSE(r.passed);
  REQUIRE(r.failures.size() == 3);
  CHECK(r.failures[0] ==
        "delivery 1: at 0s, expected 5s in {at: 0s, channel: sms, user: u1, node: hello, body: "
        "\"Welcome!\"}");
  CHECK(r.failures[1].find("channel is \"sms\", expected \"email\"") != std::string::npos);
  CHECK(r.failures[2] == "delivery 2: expected one more delivery, got none");
}

TEST_CASE("a malformed scenario file fails instead of passing") {
  testing::TempDir dir;
  const std::string file = dir.file("bad.test.yaml");
  std::ofstream(file) << "flow: missing.yaml\nevents: []\nexpect: []\n";
  runtime::ScenarioResult r = runtime::run_scenario_file(file, testing::load_checked_flow);
  CHECK_FALSE(r.passed);
  REQUIRE_FALSE(r.failures.empty());
}

TEST_CASE("a scenario whose lists are written as mappings, or with an unknown key, fails") {
  testing::TempDir dir;
  const std::string flow = std::string(TRELLIS_TEST_DIR) + "/scenarios/flows/welcome_never.yaml";
  auto run = [&](const std::string& body) {
    const std::string file = dir.file("shape.test.yaml");
    std::ofstream(file) << "flow: " << flow << "\nusers: {u1: {phone: '+47'}}\n"
                        << "events:\n  - {at: 0s, type: signup, user: u1}\n"
                        << body;
    return runtime::run_scenario_file(file, testing::load_checked_flow);
  };
  // `expect` as a mapping used to check nothing at all, whatever the deliveries were.
  runtime::ScenarioResult as_map = run("expect: {deliveries: [{channel: email}]}\n");
  CHECK_FALSE(as_map.passed);
  REQUIRE_FALSE(as_map.failures.empty());
  CHECK(as_map.failures[0].find("`expect` must be a list") != std::string::npos);

  runtime::ScenarioResult misspelt = run("expects:\n  - {at: 0s, channel: sms, user: u1}\n");
  CHECK_FALSE(misspelt.passed);
  REQUIRE_FALSE(misspelt.failures.empty());
  CHECK(misspelt.failures[0].find("unknown key `expects`") != std::string::npos);

  runtime::ScenarioResult right = run("expect:\n  - {at: 0s, channel: sms, user: u1}\n");
  for (const auto& f : right.failures) UNSCOPED_INFO(f);
  CHECK(right.passed);
}

TEST_CASE("a lifecycle or migration step that cannot be applied fails the scenario") {
  testing::TempDir dir;
  const std::string flow = std::string(TRELLIS_TEST_DIR) + "/scenarios/flows/held_sms.yaml";
  auto run = [&](const std::string& step) {
    const std::string file = dir.file("steps.test.yaml");
    std::ofstream(file) << "flow: " << flow << "\nevents:\n  - " << step << "\nexpect: []\n";
    return runtime::run_scenario_file(file, testing::load_checked_flow);
  };
  auto fails_with = [](const runtime::ScenarioResult& r, const std::string& part) {
    for (const auto& f : r.failures) UNSCOPED_INFO(f);
    CHECK_FALSE(r.passed);
    REQUIRE_FALSE(r.failures.empty());
    CHECK(r.failures[0].find(part) != std::string::npos);
  };
  fails_with(run("{at: 0s, resume: held_sms, timers: later}"), "`timers` is fire or shift");
  fails_with(run("{at: 0s, pause: no_such_flow}"), "no_such_flow");
  fails_with(run("{at: 0s, migrate: held_sms}"), "needs `from`");
  fails_with(run("{at: 0s, migrate: held_sms, from: 7}"), "step #1");

  runtime::ScenarioResult paused = run("{at: 0s, pause: held_sms}");
  for (const auto& f : paused.failures) UNSCOPED_INFO(f);
  CHECK(paused.passed);
}
