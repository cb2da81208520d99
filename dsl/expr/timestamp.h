// ISO 8601 timestamps as epoch seconds, read without allocating, for
// `days_since(path)` and time arithmetic on values that arrived as text.
#pragma once

#include <string_view>

namespace trellis::expr {

// Accepts `2026-11-23`, `2026-11-23T10:00`, `2026-11-23T10:00:05.250Z`,
// `2026-11-23 10:00:05+01:00` (no zone means UTC). False for anything else.
bool parse_timestamp(std::string_view text, double& seconds);

}  // namespace trellis::expr
