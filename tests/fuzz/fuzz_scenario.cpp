// libFuzzer target: a scenario file (`trellis test`), run against one fixed
// flow on a fresh SQLite file, as `trellis test` runs it. The flow loader
// ignores the path the scenario names, so every input reaches the runner.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "dsl/load.h"
#include "runtime/scenario.h"

namespace {

const char* kFlow = R"(flow: promo
trigger:
  event: visit
  when: event.page == "pricing"
start: wait
nodes:
  wait: {type: wait, duration: 1h, next: pick}
  pick:
    type: segment
    match: user.plan == "pro"
    yes: thanks
    no: offer
  thanks: {type: email, subject: "Thanks", body: "Thanks, {{user.name}}", next: done}
  offer: {type: sms, text: "Try pro, {{user.name}}", next: done}
  done: {type: exit}
)";

trellis::Result<trellis::runtime::LoadedFlow> load_fixed_flow(const std::string&) {
  auto loaded = trellis::dsl::check_flow_text(kFlow, "promo.yaml", trellis::dsl::FlowSyntax::kYaml);
  if (!loaded.ok()) return trellis::Error{"the fixed flow does not load"};
  return trellis::runtime::LoadedFlow{*loaded.flow, kFlow};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path =
      "/tmp/trellis-fuzz-scenario-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto result = trellis::runtime::run_scenario_file(path, load_fixed_flow);
  (void)result;
  std::remove(path.c_str());
  return 0;
}
