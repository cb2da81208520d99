// libFuzzer target: a YAML flow file through the loader and the checker, as
// `trellis check` and POST /v1/check run it. Any crash, leak, sanitizer report
// or stack overflow is a bug; diagnostics are the expected outcome.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dsl/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = trellis::dsl::check_flow_text(text, "fuzz.yaml", trellis::dsl::FlowSyntax::kYaml);
  (void)result;
  return 0;
}
