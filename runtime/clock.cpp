#include "runtime/clock.h"

#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace trellis::runtime {

TimeMs SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

void VirtualClock::set_ms(TimeMs t) {
  TimeMs current = now_.load(std::memory_order_acquire);
  while (t > current && !now_.compare_exchange_weak(current, t, std::memory_order_acq_rel)) {
  }
}

namespace {

bool digits(const char*& p, int count, int* out) {
  int v = 0;
  for (int i = 0; i < count; ++i, ++p) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool parse_rfc3339(const char* p, TimeMs* out) {
  int y, mo, d, h, mi, s;
  if (!digits(p, 4, &y) || *p++ != '-' || !digits(p, 2, &mo) || *p++ != '-' || !digits(p, 2, &d))
    return false;
  if (*p != 'T' && *p != 't' && *p != ' ') return false;
  ++p;
  if (!digits(p, 2, &h) || *p++ != ':' || !digits(p, 2, &mi) || *p++ != ':' || !digits(p, 2, &s))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  int ms = 0;
  if (*p == '.') {
    ++p;
    int scale = 100;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9') {
      ms += (*p - '0') * scale;
      scale /= 10;
      ++p;
    }
  }
  int64_t offset_s = 0;
  if (*p == 'Z' || *p == 'z') {
    ++p;
  } else if (*p == '+' || *p == '-') {
    const int sign = *p == '-' ? -1 : 1;
    ++p;
    int oh, om;
    if (!digits(p, 2, &oh) || *p++ != ':' || !digits(p, 2, &om)) return false;
    offset_s = sign * (int64_t{oh} * 3600 + int64_t{om} * 60);
  } else {
    return false;
  }
  if (*p != '\0') return false;
  const date::sys_days civil = date::year{y} / mo / d;
  const int64_t days = civil.time_since_epoch().count();
  *out = ((days * 86400 + int64_t{h} * 3600 + int64_t{mi} * 60 + s) - offset_s) * 1000 + ms;
  return true;
}

namespace {

// `v` as `n` decimal digits at `p`, zero-padded (REQUIRES: 0 <= v < 10^n).
void put_digits(char* p, int v, int n) {
  for (int i = n - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string format_rfc3339(TimeMs t) {
  int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
  const int ms = static_cast<int>(t - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int rem = static_cast<int>(secs - days * 86400);
  const date::year_month_day ymd{date::sys_days(date::days(days))};
  const int year = int{ymd.year()};
  if (year < 0 || year > 9999) {  // outside what four digits hold: as printf writes it
    char out[64];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                  unsigned{ymd.month()}, unsigned{ymd.day()}, rem / 3600, rem % 3600 / 60, rem % 60,
                  ms);
    return out;
  }
  // Digits put in place rather than by snprintf, which was a tenth of the CPU
  // of a year of stats by the hour (8,760 bucket starts).
  char out[] = "0000-00-00T00:00:00.000Z";
  put_digits(out, year, 4);
  put_digits(out + 5, static_cast<int>(unsigned{ymd.month()}), 2);
  put_digits(out + 8, static_cast<int>(unsigned{ymd.day()}), 2);
  put_digits(out + 11, rem / 3600, 2);
  put_digits(out + 14, rem % 3600 / 60, 2);
  put_digits(out + 17, rem % 60, 2);
  put_digits(out + 20, ms, 3);
  return std::string(out, sizeof out - 1);
}

}  // namespace trellis::runtime
