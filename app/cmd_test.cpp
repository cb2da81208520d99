// `trellis test FILE...`: runs scenario files (docs/scenarios.md) on a virtual clock
// through the same Engine as `serve`, prints each result and a summary line.
#include <iostream>

#include "app/command.h"
#include "dsl/load.h"
#include "runtime/scenario.h"

namespace trellis::app {

namespace {

Result<runtime::LoadedFlow> load_checked(const std::string& path) {
  dsl::LoadResult r = dsl::check_flow_file(path);
  if (!r.ok()) {
    std::string message = r.readable ? "flow has errors" : "cannot read flow file";
    for (const auto& d : r.diagnostics.items()) message += "\n" + ir::render(d, r.source);
    return Error{message};
  }
  return runtime::LoadedFlow{std::move(*r.flow), std::move(r.source)};
}

int run_test(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "usage: trellis test FILE...\n";
    return 2;
  }
  int passed = 0, failed = 0;
  for (const std::string& file : args) {
    runtime::ScenarioResult r = runtime::run_scenario_file(file, load_checked);
    if (r.passed) {
      ++passed;
      std::cout << "PASS " << file << ": " << r.name << " (" << r.deliveries << " deliveries)\n";
    } else {
      ++failed;
      std::cout << "FAIL " << file << ": " << r.name << "\n";
      for (const auto& f : r.failures) std::cout << "  " << f << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

Command test_command() {
  return {"test", "run scenario files on a virtual clock",
          "usage: trellis test FILE...\n\n"
          "Runs each scenario file (flow, users, coupons, timed events, expected\n"
          "deliveries) on a virtual clock through the runtime, prints PASS or FAIL with\n"
          "the differences, and ends with `N passed, N failed`. Exit 0 when all pass.\n",
          run_test};
}

}  // namespace trellis::app
