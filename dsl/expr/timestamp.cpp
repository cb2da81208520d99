#include "dsl/expr/timestamp.h"

#include <date/date.h>

#include <cstdint>

namespace trellis::expr {

namespace {

// Reads exactly `width` digits at `pos`.
bool digits(std::string_view text, size_t& pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += width;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

bool parse_time(std::string_view text, size_t& pos, double& seconds_of_day) {
  int hour = 0, minute = 0, second = 0;
  if (!digits(text, pos, 2, hour) || !expect(text, pos, ':') || !digits(text, pos, 2, minute)) {
    return false;
  }
  double fraction = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!digits(text, pos, 2, second)) return false;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      double scale = 0.1;
      size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        fraction += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return false;
    }
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  seconds_of_day = hour * 3600.0 + minute * 60.0 + second + fraction;
  return true;
}

bool parse_zone(std::string_view text, size_t& pos, double& offset) {
  offset = 0;
  if (pos == text.size()) return true;
  if (text[pos] == 'Z' || text[pos] == 'z') return ++pos == text.size();
  if (text[pos] != '+' && text[pos] != '-') return false;
  int sign = text[pos++] == '-' ? -1 : 1;
  int hours = 0, minutes = 0;
  if (!digits(text, pos, 2, hours)) return false;
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (pos < text.size() && !digits(text, pos, 2, minutes)) return false;
  offset = sign * (hours * 3600.0 + minutes * 60.0);
  return pos == text.size() && hours <= 23 && minutes <= 59;
}

}  // namespace

bool parse_timestamp(std::string_view text, double& seconds) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!digits(text, pos, 4, year) || !expect(text, pos, '-') || !digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  double seconds_of_day = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    ++pos;
    if (!parse_time(text, pos, seconds_of_day)) return false;
  }
  double offset = 0;
  if (!parse_zone(text, pos, offset)) return false;
  const date::sys_days civil = date::year{year} / month / day;
  seconds =
      static_cast<double>(civil.time_since_epoch().count()) * 86400.0 + seconds_of_day - offset;
  return true;
}

}  // namespace trellis::expr
