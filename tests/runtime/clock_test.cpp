#include "runtime/clock.h"

#include <date/date.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

using namespace trellis::runtime;

TEST_CASE("virtual clock moves only forward and only when told") {
  VirtualClock clock(1000);
  CHECK(clock.now_ms() == 1000);
  clock.advance_ms(500);
  CHECK(clock.now_ms() == 1500);
  clock.set_ms(1200);  // earlier: ignored
  CHECK(clock.now_ms() == 1500);
}

TEST_CASE("system clock reads a plausible wall time") {
  CHECK(SystemClock::instance().now_ms() > 1'700'000'000'000LL);
}

TEST_CASE("RFC 3339 timestamps parse and format") {
  TimeMs t = 0;
  REQUIRE(parse_rfc3339("2026-11-23T10:00:00Z", &t));
  CHECK(t == 1795428000000LL);
  REQUIRE(parse_rfc3339("2026-11-23T11:00:00.250+01:00", &t));
  CHECK(t == 1795428000250LL);
  CHECK(format_rfc3339(1795428000250LL) == "2026-11-23T10:00:00.250Z");
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK_FALSE(parse_rfc3339("2026-11-23", &t));
  CHECK_FALSE(parse_rfc3339("2026-13-01T00:00:00Z", &t));
  CHECK_FALSE(parse_rfc3339("2026-11-23T10:00:00", &t));
}

TEST_CASE("RFC 3339 formatting writes what printf wrote, 1900 to 2200 and far out") {
  // The format as it was written with snprintf, the reference.
  auto reference = [](TimeMs t) {
    int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
    const int ms = static_cast<int>(t - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    const int64_t rem = secs - days * 86400;
    const date::year_month_day ymd{date::sys_days(date::days(days))};
    char out[64];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int{ymd.year()},
                  unsigned{ymd.month()}, unsigned{ymd.day()}, static_cast<int>(rem / 3600),
                  static_cast<int>(rem % 3600 / 60), static_cast<int>(rem % 60), ms);
    return std::string(out);
  };
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<TimeMs> near(-2208988800000LL, 7258118400000LL);  // 1900..2200
  for (int i = 0; i < 20000; ++i) {
    const TimeMs t = near(rng);
    INFO(t);
    REQUIRE(format_rfc3339(t) == reference(t));
  }
  for (TimeMs t : {TimeMs{-1}, TimeMs{999}, TimeMs{-62167219200000LL}, TimeMs{-62167219200001LL},
                   TimeMs{253402300799999LL}, TimeMs{253402300800000LL}, TimeMs{-99999999999999LL}})
    CHECK(format_rfc3339(t) == reference(t));
}
