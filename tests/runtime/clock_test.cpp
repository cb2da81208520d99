#include "runtime/clock.h"

#include <catch2/catch.hpp>

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
