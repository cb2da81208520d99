// Internal to trellis_dsl: the one reading of duration text, shared by
// parse_duration (YAML `for:`) and duration literals inside expressions (`72h`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::dsl {

// Seconds in `text` (`90s`, `30m`, `72h`, `7d`, `2w`, ISO 8601 `PT72H`, `P1DT2H`,
// `P7D`), or nullopt with `error` set to a message for the user.
std::optional<int64_t> duration_seconds(std::string_view text, std::string& error);

// True when `text` looks like an ISO 8601 duration (starts with P and a digit or T).
bool looks_like_iso_duration(std::string_view text);

}  // namespace trellis::dsl
