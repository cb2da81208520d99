// Wall-clock time in a user's own time zone, for quiet hours, `until_time`
// waits and the local_hour()/local_weekday() expression helpers. Backed by
// HowardHinnant's date/tz reading the system tz database (no download).
//
// Every function is pure (time zone rules aside) and thread-safe. An unknown
// or empty zone name falls back to `fallback` (itself falling back to UTC),
// and the result says so, so the caller can put a warning in the trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::nodes {

using Millis = int64_t;  // milliseconds since the Unix epoch

// A time zone resolved from a user's `timezone` trait and a configured default.
struct ZoneChoice {
  std::string name;     // the IANA name actually used
  std::string warning;  // non-empty when the user's name was invalid and the default was used
};
ZoneChoice choose_zone(std::string_view user_zone, std::string_view fallback);

// True when `name` is an IANA zone the tz database knows ("Europe/Berlin", "UTC").
bool is_known_zone(std::string_view name);

struct LocalParts {
  int year = 1970, month = 1, day = 1;
  int minute_of_day = 0;  // 0..1439
  int weekday = 4;        // 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday)
};
// `at` seen on a wall clock in `zone` (REQUIRES: is_known_zone(zone)).
LocalParts local_parts(Millis at, std::string_view zone);

// The first instant strictly after `after` whose local time in `zone` is
// `minute_of_day`, on a weekday whose bit is set in `weekday_mask` (bit 0 =
// Sunday .. bit 6 = Saturday; 0 or 0x7f = every day). Daylight-saving rules:
// a local time that does not exist that day (spring forward) is the first
// instant after the gap (02:30 -> 03:00 in Europe/Berlin); one that exists
// twice (autumn) is the earlier of the two.
Millis next_local_time(Millis after, int minute_of_day, unsigned weekday_mask,
                       std::string_view zone);

// Quiet hours from `start` to `end` minutes of the local day (the window may
// wrap midnight: 21:00 -> 09:00). When `at` falls inside, returns the instant
// the window ends; otherwise nullopt. start == end means no quiet hours.
std::optional<Millis> quiet_hours_end(Millis at, int start_minute, int end_minute,
                                      std::string_view zone);

// "mon".."sun" (also "monday".."sunday") -> 1..6, 0 for Sunday; nullopt otherwise.
std::optional<int> weekday_from_name(std::string_view name);
std::string_view weekday_name(int weekday);  // 0 -> "sun"

// A wall-clock date and time with no zone: a schedule's "2026-12-24 10:00".
struct LocalDateTime {
  int64_t day = 0;        // days since 1970-01-01
  int minute_of_day = 0;  // 0..1439
};
// "YYYY-MM-DD HH:MM" (a real calendar date, a 24-hour time); nullopt otherwise.
std::optional<LocalDateTime> parse_local_date_time(std::string_view text);
// Back to "YYYY-MM-DD HH:MM".
std::string local_date_time_text(const LocalDateTime& at);
// The instant `at` names on a wall clock in `zone`, by the same daylight-saving
// rules as next_local_time (a missing time is the end of the gap, a doubled
// one the earlier instant).
Millis local_instant(const LocalDateTime& at, std::string_view zone);

// "HH:MM" (00:00..23:59) -> minute of day.
std::optional<int> parse_time_of_day(std::string_view text);

}  // namespace trellis::nodes
