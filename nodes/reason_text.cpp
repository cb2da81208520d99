#include "nodes/reason_text.h"

#include <date/date.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace trellis::nodes {

namespace {

constexpr int64_t kMillisPerDay = 86'400'000;
// 1000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years strftime prints
// with exactly four digits, which the fast path writes.
constexpr int64_t kFourDigitYearsBegin = -30'610'224'000'000;
constexpr int64_t kFourDigitYearsEnd = 253'402'300'800'000;

// Writes `value` as exactly `width` digits, zero-padded, at `at`.
char* put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return at + width;
}

// The former implementation, kept for years the fast path does not write
// (strftime pads nothing and signs negative years; gmtime may fail).
void append_time_with_strftime(std::string& out, int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buffer, n);
}

constexpr uint64_t kPowersOfTen[] = {1,       10,        100,        1'000,       10'000,
                                     100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

// "%g" for a value in [1e-4, 1), the A/B hash point's range; false for any
// other value. There "%g" is fixed notation with 6 significant digits, so this
// scales the double's exact binary value by 10^(5 - exponent) in 128 bits and
// rounds half to even, as printf does, then drops trailing zeros.
bool append_general_fraction(std::string& out, double value) {
  if (!(value >= 1e-4 && value < 1)) return false;
  // The decimal exponent. Each double constant lies just above the power of ten
  // it stands for, so `>=` decides exactly as against the power itself.
  const int exponent = value >= 0.1 ? -1 : value >= 0.01 ? -2 : value >= 0.001 ? -3 : -4;
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  // value == mantissa / 2^shift exactly; 53 <= shift <= 66 in this range.
  const uint64_t mantissa = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
  const int shift = 1075 - static_cast<int>(bits >> 52);
  int decimals = 5 - exponent;
  using Wide = unsigned __int128;
  const Wide scaled = static_cast<Wide>(mantissa) * kPowersOfTen[decimals];
  uint64_t digits = static_cast<uint64_t>(scaled >> shift);
  const Wide rest = scaled & ((Wide{1} << shift) - 1);
  const Wide half = Wide{1} << (shift - 1);
  if (rest > half || (rest == half && (digits & 1) != 0)) ++digits;
  if (digits == 1'000'000) {
    // Rounding reached the next power of ten (0.0999999996 -> 0.1): printf then
    // uses the higher exponent, one decimal fewer, and the digits are 100000.
    digits = 100'000;
    decimals -= 1;
  }
  const uint64_t unit = kPowersOfTen[decimals];
  char buffer[16];
  char* end = buffer;
  *end++ = static_cast<char>('0' + digits / unit);  // 0, or 1 when rounded up to 1
  uint64_t fraction = digits % unit;
  if (fraction != 0) {
    int width = decimals;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --width;
    }
    *end++ = '.';
    end = put_digits(end, static_cast<unsigned>(fraction), width);
  }
  out.append(buffer, end);
  return true;
}

}  // namespace

void append_time(std::string& out, int64_t time) {
  int64_t seconds = time / 1000;
  int millis = static_cast<int>(time % 1000);
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  char buffer[32];
  char* end = buffer;
  if (time >= kFourDigitYearsBegin && time < kFourDigitYearsEnd) {
    int64_t days = seconds / 86400;
    int64_t second_of_day = seconds % 86400;
    if (second_of_day < 0) {
      second_of_day += 86400;
      days -= 1;
    }
    const date::year_month_day ymd{date::sys_days(date::days(days))};
    const unsigned s = static_cast<unsigned>(second_of_day);
    end = put_digits(end, static_cast<unsigned>(int{ymd.year()}), 4);
    *end++ = '-';
    end = put_digits(end, unsigned{ymd.month()}, 2);
    *end++ = '-';
    end = put_digits(end, unsigned{ymd.day()}, 2);
    *end++ = 'T';
    end = put_digits(end, s / 3600, 2);
    *end++ = ':';
    end = put_digits(end, s / 60 % 60, 2);
    *end++ = ':';
    end = put_digits(end, s % 60, 2);
  } else {
    append_time_with_strftime(out, seconds);
  }
  if (millis != 0) {
    *end++ = '.';
    end = put_digits(end, static_cast<unsigned>(millis), 3);
  }
  *end++ = 'Z';
  out.append(buffer, end);
}

std::string time_text(int64_t time) {
  std::string text;
  append_time(text, time);
  return text;
}

void append_general(std::string& out, double value) {
  if (append_general_fraction(out, value)) return;
  // to_chars with a precision is specified as printf with the matching
  // conversion ("%.6g" here, which is "%g") in the C locale, without its cost.
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 6);
  out.append(buffer, result.ptr);
}

void append_duration(std::string& out, const ir::Duration& duration) {
  if (!duration.source.empty()) {
    out += duration.source;
    return;
  }
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, duration.seconds);
  out.append(buffer, result.ptr);
  out += 's';
}

void append_excerpt(std::string& out, std::string_view text, size_t limit) {
  if (text.size() <= limit) {
    out += text;
    return;
  }
  out += text.substr(0, limit);
  out += "...";
}

}  // namespace trellis::nodes
