// Formatting for step-history reasons. Reasons are user-visible and pinned by
// tests, and a timer catch-up formats a few per timer, so these append to a
// string the caller sized instead of returning temporaries, and format without
// strftime or snprintf (each of which costs more than the rest of a decision).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dsl/ir/flow.h"

namespace trellis::nodes {

// "2026-11-23T10:00:00Z": UTC, seconds, then ".250" before the Z when the
// milliseconds are not zero. Before 1970 too ("1969-12-31T23:59:59.999Z");
// years outside 1000..9999 print as glibc's strftime("%Y") does ("999", "10000").
// `time` is milliseconds since the Unix epoch.
void append_time(std::string& out, int64_t time);
std::string time_text(int64_t time);

// printf's "%g": six significant digits, no trailing zeros, an exponent outside
// 1e-4..1e6 ("45", "2.75", "0.940476", "1.5e-07", "inf", "nan").
void append_general(std::string& out, double value);

// "72h" as written, or "<n>s" for IR built in memory.
void append_duration(std::string& out, const ir::Duration& duration);

// `text` shortened to `limit` bytes, with "..." when it was longer.
void append_excerpt(std::string& out, std::string_view text, size_t limit = 80);

}  // namespace trellis::nodes
