// The reason formatters replace strftime and snprintf("%g"); their text must
// be exactly what those printed, so each is checked against a table of edge
// cases and against the libc call it replaced over many values.
#include "nodes/reason_text.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <random>

using trellis::nodes::append_duration;
using trellis::nodes::append_excerpt;
using trellis::nodes::append_general;
using trellis::nodes::time_text;

namespace {

// The implementation append_time replaced.
std::string strftime_time_text(int64_t time) {
  int64_t seconds = time / 1000;
  int64_t millis = time % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string text(buffer, n);
  if (millis != 0) {
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(millis));
    text += ms;
  }
  return text + "Z";
}

std::string printf_general(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

std::string general(double value) {
  std::string text;
  append_general(text, value);
  return text;
}

constexpr int64_t kDay = 86'400'000;

}  // namespace

TEST_CASE("time_text: UTC ISO 8601 with milliseconds only when not zero", "[reason_text]") {
  CHECK(time_text(0) == "1970-01-01T00:00:00Z");
  CHECK(time_text(1) == "1970-01-01T00:00:00.001Z");
  CHECK(time_text(999) == "1970-01-01T00:00:00.999Z");
  CHECK(time_text(1000) == "1970-01-01T00:00:01Z");
  CHECK(time_text(1'795'428'000'000) == "2026-11-23T10:00:00Z");
  CHECK(time_text(1'795'428'000'250) == "2026-11-23T10:00:00.250Z");
  CHECK(time_text(1'767'225'599'999) == "2025-12-31T23:59:59.999Z");
  // Leap days: 2024 and 2000 are leap years, 2100 and 1900 are not.
  CHECK(time_text(1'709'164'800'000) == "2024-02-29T00:00:00Z");
  CHECK(time_text(1'709'164'800'000 + kDay) == "2024-03-01T00:00:00Z");
  CHECK(time_text(951'782'400'000) == "2000-02-29T00:00:00Z");
  CHECK(time_text(4'107'542'400'000) == "2100-03-01T00:00:00Z");
  CHECK(time_text(-2'203'891'200'000) == "1900-03-01T00:00:00Z");
  // Before 1970: the millisecond part counts forward from the earlier second.
  CHECK(time_text(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(time_text(-1000) == "1969-12-31T23:59:59Z");
  CHECK(time_text(-1001) == "1969-12-31T23:59:58.999Z");
  CHECK(time_text(-kDay) == "1969-12-31T00:00:00Z");
  // The four-digit years end at both sides; beyond them, what strftime printed.
  CHECK(time_text(-30'610'224'000'000) == "1000-01-01T00:00:00Z");
  CHECK(time_text(-30'610'224'000'001) == "999-12-31T23:59:59.999Z");
  CHECK(time_text(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
  CHECK(time_text(253'402'300'800'000) == "10000-01-01T00:00:00Z");
  CHECK(time_text(-62'198'755'200'000) == "-1-01-01T00:00:00Z");
}

TEST_CASE("time_text prints what strftime printed", "[reason_text]") {
  std::mt19937_64 random(7);
  // Every day boundary (and its neighbours) over four centuries around the epoch.
  for (int64_t day = -100 * 366; day <= 300 * 366; day += 1) {
    for (int64_t offset : {int64_t{0}, int64_t{-1}, int64_t{1}, kDay / 2 + 1234}) {
      int64_t time = day * kDay + offset;
      INFO(time);
      REQUIRE(time_text(time) == strftime_time_text(time));
    }
  }
  std::uniform_int_distribution<int64_t> any(-40'000'000'000'000, 300'000'000'000'000);
  for (int i = 0; i < 200'000; ++i) {
    int64_t time = any(random);
    INFO(time);
    REQUIRE(time_text(time) == strftime_time_text(time));
  }
}

TEST_CASE("append_general prints what printf(\"%g\") printed", "[reason_text]") {
  CHECK(general(45) == "45");
  CHECK(general(100) == "100");
  CHECK(general(2.75) == "2.75");
  CHECK(general(0) == "0");
  CHECK(general(-0.0) == "-0");
  CHECK(general(0.940233) == "0.940233");
  CHECK(general(0.0650193) == "0.0650193");
  CHECK(general(1234567) == "1.23457e+06");
  CHECK(general(999999.5) == "1e+06");
  CHECK(general(0.0001) == "0.0001");
  CHECK(general(0.00001) == "1e-05");
  CHECK(general(std::ldexp(1.0, -10)) == "0.000976562");  // a tie: rounds to even
  CHECK(general(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(general(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(general(std::numeric_limits<double>::quiet_NaN()) ==
        printf_general(std::numeric_limits<double>::quiet_NaN()));

  std::mt19937_64 random(11);
  for (int i = 0; i < 300'000; ++i) {
    // A/B hash points: 53 random bits scaled into [0, 1).
    double point = static_cast<double>(random() >> 11) * 0x1.0p-53;
    // Any bit pattern: subnormals, huge values, NaNs.
    uint64_t bits = random();
    double any = 0;
    std::memcpy(&any, &bits, sizeof any);
    // Weights as people write them.
    double weight = static_cast<double>(random() % 100'000) / 100.0;
    for (double value : {point, any, weight}) {
      INFO(value);
      REQUIRE(general(value) == printf_general(value));
    }
  }
  // Around the powers of ten and the rounding points of six digits, where the
  // exponent printf picks changes or a tie may round either way.
  for (double boundary : {1.0, 0.1, 0.01, 0.001, 0.0001, 0.0999999996, 0.9999995, 0.09999995,
                          0.00099999950000000001, 0.1234565, 0.0001234565, 0.5, 0.25, 0.125}) {
    double below = boundary;
    double above = boundary;
    for (int step = 0; step < 2000; ++step) {
      below = std::nextafter(below, 0.0);
      above = std::nextafter(above, 2.0);
      for (double value : {below, above}) {
        INFO(value);
        REQUIRE(general(value) == printf_general(value));
      }
    }
  }
  for (int exponent = -1074; exponent <= 1023; ++exponent) {
    for (double mantissa : {1.0, 1.5, 3.0, 5.0, 7.0}) {
      double value = std::ldexp(mantissa, exponent);
      INFO(value);
      REQUIRE(general(value) == printf_general(value));
    }
  }
}

TEST_CASE("append_duration and append_excerpt", "[reason_text]") {
  std::string text;
  append_duration(text, trellis::ir::Duration{72 * 3600, "72h", {}});
  text += ' ';
  append_duration(text, trellis::ir::Duration{90, "", {}});
  CHECK(text == "72h 90s");

  text.clear();
  append_excerpt(text, "short", 5);
  CHECK(text == "short");
  text.clear();
  append_excerpt(text, "longer", 5);
  CHECK(text == "longe...");
}
