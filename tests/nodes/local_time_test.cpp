// Local wall-clock times across time zones and daylight-saving days.
#include "nodes/local_time.h"

#include <catch2/catch.hpp>

using namespace trellis::nodes;

namespace {
// 2026-03-29T00:00:00Z: the night Europe/Berlin springs forward (02:00 -> 03:00 local).
constexpr Millis kSpringDayUtc = 1774742400000LL;
// 2026-10-25T00:00:00Z: Europe/Berlin falls back (03:00 -> 02:00 local).
constexpr Millis kAutumnDayUtc = 1792886400000LL;
constexpr Millis kHour = 3600 * 1000;
constexpr Millis kMinute = 60 * 1000;
}  // namespace

TEST_CASE("zones resolve with a fallback and a warning", "[local_time]") {
  CHECK(is_known_zone("Europe/Berlin"));
  CHECK_FALSE(is_known_zone("Mars/Olympus"));
  CHECK(choose_zone("America/New_York", "UTC").name == "America/New_York");
  ZoneChoice bad = choose_zone("Mars/Olympus", "Europe/Berlin");
  CHECK(bad.name == "Europe/Berlin");
  CHECK(bad.warning == "time zone 'Mars/Olympus' is unknown; using Europe/Berlin");
  CHECK(choose_zone("", "Nowhere/Else").name == "UTC");
}

TEST_CASE("local parts in two zones", "[local_time]") {
  // 2026-01-01T12:00Z: 13:00 in Berlin, 07:00 in New York; a Thursday.
  const Millis noon = 1767268800000LL;
  LocalParts berlin = local_parts(noon, "Europe/Berlin");
  CHECK(berlin.minute_of_day == 13 * 60);
  CHECK(berlin.weekday == 4);
  LocalParts ny = local_parts(noon, "America/New_York");
  CHECK(ny.minute_of_day == 7 * 60);
  CHECK(ny.day == 1);
}

TEST_CASE("next local time: a time that does not exist moves past the gap", "[local_time]") {
  // From 00:30 local (23:30Z the day before) to 02:30 local, which does not exist: 03:00 CEST = 01:00Z.
  const Millis from = kSpringDayUtc - 30 * kMinute;
  CHECK(next_local_time(from, 150, 0, "Europe/Berlin") == kSpringDayUtc + kHour);
  // 10:00 that day is 08:00Z (CEST, UTC+2).
  CHECK(next_local_time(from, 600, 0, "Europe/Berlin") == kSpringDayUtc + 8 * kHour);
}

TEST_CASE("next local time: a time that exists twice takes the first", "[local_time]") {
  // 02:30 local happens at 00:30Z (CEST) and again at 01:30Z (CET).
  const Millis from = kAutumnDayUtc - 2 * kHour;  // 00:00 local CEST
  CHECK(next_local_time(from, 150, 0, "Europe/Berlin") == kAutumnDayUtc + 30 * kMinute);
  // 10:00 that day is 09:00Z (CET, UTC+1).
  CHECK(next_local_time(from, 600, 0, "Europe/Berlin") == kAutumnDayUtc + 9 * kHour);
}

TEST_CASE("next local time honours weekdays and is strictly after", "[local_time]") {
  const Millis thursday_noon = 1767268800000LL;  // 2026-01-01T12:00Z, Thursday
  // 12:00 UTC on Thursday is "now": the next 12:00 is Friday's.
  CHECK(next_local_time(thursday_noon, 720, 0, "UTC") == thursday_noon + 24 * kHour);
  // Mondays only: 2026-01-05.
  CHECK(next_local_time(thursday_noon, 600, 1u << 1, "UTC") ==
        thursday_noon + 4 * 24 * kHour - 2 * kHour);
}

TEST_CASE("quiet hours wrap midnight", "[local_time]") {
  const Millis midnight = 1767225600000LL;  // 2026-01-01T00:00Z
  // 21:00-09:00 in UTC: 23:00 is inside, ends 09:00 next day.
  CHECK(quiet_hours_end(midnight - kHour, 21 * 60, 9 * 60, "UTC") == midnight + 9 * kHour);
  CHECK_FALSE(quiet_hours_end(midnight + 12 * kHour, 21 * 60, 9 * 60, "UTC"));
  // 12:00Z is 07:00 in New York: quiet until 09:00 local = 14:00Z.
  CHECK(quiet_hours_end(midnight + 12 * kHour, 21 * 60, 9 * 60, "America/New_York") ==
        midnight + 14 * kHour);
  CHECK_FALSE(quiet_hours_end(midnight, 600, 600, "UTC"));
}

TEST_CASE("time of day and weekday names", "[local_time]") {
  CHECK(parse_time_of_day("10:00") == 600);
  CHECK(parse_time_of_day("9:05") == 545);
  CHECK_FALSE(parse_time_of_day("24:00"));
  CHECK_FALSE(parse_time_of_day("10:60"));
  CHECK_FALSE(parse_time_of_day("1000"));
  CHECK(weekday_from_name("mon") == 1);
  CHECK(weekday_from_name("sunday") == 0);
  CHECK_FALSE(weekday_from_name("Mon."));
  CHECK(weekday_name(6) == "sat");
}
