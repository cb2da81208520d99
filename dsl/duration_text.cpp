#include "dsl/duration_text.h"

#include <cctype>

namespace trellis::dsl {

namespace {

constexpr int64_t kMaxSeconds = int64_t{100} * 365 * 24 * 3600;  // a century is plenty

std::optional<int64_t> unit_seconds(char unit) {
  switch (std::tolower(static_cast<unsigned char>(unit))) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    case 'w':
      return 7 * 86400;
    default:
      return std::nullopt;
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads digits at `pos`; nullopt when there are none or too many.
std::optional<int64_t> read_number(std::string_view text, size_t& pos) {
  size_t start = pos;
  int64_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (pos - start >= 12) return std::nullopt;
    value = value * 10 + (text[pos] - '0');
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return value;
}

std::optional<int64_t> iso_seconds(std::string_view text, std::string& error) {
  const std::string bad =
      "'" + std::string(text) + "' is not an ISO 8601 duration; write it like PT72H, P7D or P1DT2H";
  size_t pos = 1;  // after 'P'
  bool in_time = false;
  bool any = false;
  int64_t total = 0;
  while (pos < text.size()) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos])));
    if (c == 'T' && !in_time) {
      in_time = true;
      ++pos;
      continue;
    }
    std::optional<int64_t> number = read_number(text, pos);
    if (!number || pos >= text.size()) {
      if (pos < text.size() && text[pos] == '.') {
        error = "'" + std::string(text) + "': use whole numbers in durations";
      } else {
        error = bad;
      }
      return std::nullopt;
    }
    char designator = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos++])));
    int64_t unit = 0;
    if (!in_time && (designator == 'Y' || designator == 'M')) {
      error = "'" + std::string(text) + "': years and months have no fixed length; use days (P30D)";
      return std::nullopt;
    }
    if (!in_time && designator == 'W') unit = 7 * 86400;
    if (!in_time && designator == 'D') unit = 86400;
    if (in_time && designator == 'H') unit = 3600;
    if (in_time && designator == 'M') unit = 60;
    if (in_time && designator == 'S') unit = 1;
    if (unit == 0) {
      error = bad;
      return std::nullopt;
    }
    total += *number * unit;
    if (total > kMaxSeconds) {
      error = "'" + std::string(text) + "' is too long a duration";
      return std::nullopt;
    }
    any = true;
  }
  if (!any) {
    error = bad;
    return std::nullopt;
  }
  return total;
}

}  // namespace

bool looks_like_iso_duration(std::string_view text) {
  return text.size() >= 2 && (text[0] == 'P' || text[0] == 'p') &&
         (is_digit(text[1]) || text[1] == 'T' || text[1] == 't');
}

std::optional<int64_t> duration_seconds(std::string_view text, std::string& error) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) {
    error = "empty duration; write it like 72h, 30m, 90s, 7d or PT72H";
    return std::nullopt;
  }
  if (text[0] == 'P' || text[0] == 'p') return iso_seconds(text, error);
  size_t pos = 0;
  std::optional<int64_t> number = read_number(text, pos);
  if (!number) {
    error = quoted + " is not a duration; write it like 72h, 30m, 90s, 7d or PT72H";
    return std::nullopt;
  }
  if (pos == text.size()) {
    std::string digits(text);
    error = quoted + " needs a unit: " + digits + "s, " + digits + "m, " + digits + "h or " +
            digits + "d";
    return std::nullopt;
  }
  if (text[pos] == '.') {
    error = quoted + ": use a whole number of units (90m, not 1.5h)";
    return std::nullopt;
  }
  std::optional<int64_t> unit = unit_seconds(text[pos]);
  if (!unit || pos + 1 != text.size()) {
    error = "unknown duration unit '" + std::string(text.substr(pos)) + "' in " + quoted +
            "; use s, m, h, d or w";
    return std::nullopt;
  }
  if (*number * *unit > kMaxSeconds) {
    error = quoted + " is too long a duration";
    return std::nullopt;
  }
  return *number * *unit;
}

}  // namespace trellis::dsl
