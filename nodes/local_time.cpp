#include "nodes/local_time.h"

#include <date/tz.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <exception>

namespace trellis::nodes {

namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::array<std::string_view, 7> kShortNames = {"sun", "mon", "tue", "wed",
                                                         "thu", "fri", "sat"};
constexpr std::array<std::string_view, 7> kLongNames = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

// The tz database throws for unknown names; nullptr instead.
const date::time_zone* find_zone(std::string_view name) {
  if (name.empty()) return nullptr;
  try {
    return date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return nullptr;
  }
}

const date::time_zone* zone_or_utc(std::string_view name) {
  const date::time_zone* zone = find_zone(name);
  return zone ? zone : date::locate_zone("UTC");
}

// The instant a local wall-clock time names: the earlier one when it exists
// twice, the end of the gap when it does not exist at all.
date::sys_seconds to_instant(const date::time_zone* zone, date::local_seconds local) {
  const date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      return info.second.begin;
    case date::local_info::ambiguous:
    case date::local_info::unique:
    default:
      return date::sys_seconds{local.time_since_epoch() - info.first.offset};
  }
}

}  // namespace

bool is_known_zone(std::string_view name) { return find_zone(name) != nullptr; }

ZoneChoice choose_zone(std::string_view user_zone, std::string_view fallback) {
  ZoneChoice choice;
  const std::string_view base = is_known_zone(fallback) ? fallback : std::string_view("UTC");
  if (user_zone.empty()) {
    choice.name = std::string(base);
  } else if (is_known_zone(user_zone)) {
    choice.name = std::string(user_zone);
  } else {
    choice.name = std::string(base);
    choice.warning = "time zone '" + std::string(user_zone) + "' is unknown; using " + choice.name;
  }
  return choice;
}

LocalParts local_parts(Millis at, std::string_view zone_name) {
  const date::time_zone* zone = zone_or_utc(zone_name);
  const auto instant = date::floor<seconds>(date::sys_time<milliseconds>(milliseconds(at)));
  const date::local_seconds local = zone->to_local(instant);
  const date::local_days day = date::floor<date::days>(local);
  const date::year_month_day ymd(day);
  LocalParts parts;
  parts.year = static_cast<int>(ymd.year());
  parts.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  parts.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  parts.minute_of_day = static_cast<int>(std::chrono::duration_cast<minutes>(local - day).count());
  parts.weekday = static_cast<int>(date::weekday(day).c_encoding());
  return parts;
}

Millis next_local_time(Millis after, int minute_of_day, unsigned weekday_mask,
                       std::string_view zone_name) {
  const date::time_zone* zone = zone_or_utc(zone_name);
  if ((weekday_mask & 0x7f) == 0) weekday_mask = 0x7f;
  const auto instant = date::floor<seconds>(date::sys_time<milliseconds>(milliseconds(after)));
  const date::local_days today = date::floor<date::days>(zone->to_local(instant));
  // Today may already be past the time; a week and a day covers every mask.
  for (int d = 0; d <= 8; ++d) {
    const date::local_days day = today + date::days(d);
    if (!(weekday_mask & (1u << date::weekday(day).c_encoding()))) continue;
    const date::sys_seconds at = to_instant(zone, day + minutes(minute_of_day));
    const Millis ms = std::chrono::duration_cast<milliseconds>(at.time_since_epoch()).count();
    if (ms > after) return ms;
  }
  return after + 7LL * 24 * 3600 * 1000;  // unreachable with a valid mask
}

std::optional<Millis> quiet_hours_end(Millis at, int start_minute, int end_minute,
                                      std::string_view zone) {
  if (start_minute == end_minute) return std::nullopt;
  const int now = local_parts(at, zone).minute_of_day;
  const bool inside = start_minute < end_minute ? now >= start_minute && now < end_minute
                                                : now >= start_minute || now < end_minute;
  if (!inside) return std::nullopt;
  return next_local_time(at, end_minute, 0x7f, zone);
}

std::optional<int> weekday_from_name(std::string_view name) {
  for (int i = 0; i < 7; ++i)
    if (name == kShortNames[static_cast<size_t>(i)] || name == kLongNames[static_cast<size_t>(i)])
      return i;
  return std::nullopt;
}

std::string_view weekday_name(int weekday) {
  return kShortNames[static_cast<size_t>(((weekday % 7) + 7) % 7)];
}

std::optional<LocalDateTime> parse_local_date_time(std::string_view text) {
  // "YYYY-MM-DD HH:MM": fixed widths, so a digit check per place is the parser.
  if (text.size() != 16 || text[4] != '-' || text[7] != '-' || text[10] != ' ') return std::nullopt;
  auto number = [&](size_t from, size_t width) -> std::optional<int> {
    int value = 0;
    for (size_t i = from; i < from + width; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto minute = parse_time_of_day(text.substr(11));
  if (!year || !month || !day || !minute) return std::nullopt;
  const date::year_month_day ymd{date::year(*year), date::month(static_cast<unsigned>(*month)),
                                 date::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  return LocalDateTime{date::local_days(ymd).time_since_epoch().count(), *minute};
}

std::string local_date_time_text(const LocalDateTime& at) {
  const date::year_month_day ymd{date::local_days(date::days(at.day))};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                at.minute_of_day / 60, at.minute_of_day % 60);
  return text;
}

Millis local_instant(const LocalDateTime& at, std::string_view zone_name) {
  const date::time_zone* zone = zone_or_utc(zone_name);
  const date::sys_seconds instant =
      to_instant(zone, date::local_days(date::days(at.day)) + minutes(at.minute_of_day));
  return std::chrono::duration_cast<milliseconds>(instant.time_since_epoch()).count();
}

std::optional<int> parse_time_of_day(std::string_view text) {
  // "H:MM" or "HH:MM"
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3)
    return std::nullopt;
  int hours = 0, mins = 0;
  for (size_t i = 0; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    hours = hours * 10 + (text[i] - '0');
  }
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    mins = mins * 10 + (text[i] - '0');
  }
  if (hours > 23 || mins > 59) return std::nullopt;
  return hours * 60 + mins;
}

}  // namespace trellis::nodes
