// libFuzzer target: an event body in any wire form (Trellis, Segment,
// CloudEvents; one object or an array) and a profile body, as HTTP and the
// Redis consumer parse them, under the default limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto events = trellis::runtime::parse_events(text);
  (void)events;
  auto traits = trellis::runtime::parse_traits(text);
  (void)traits;
  return 0;
}
