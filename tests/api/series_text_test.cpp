// The stats series written as JSON text (api/results.h series_text, the
// writer in api/json_text.h) is byte for byte what the json tree it replaced
// dumped: built both ways from the same seeded buckets, awkward numbers and
// channel names included. (Whole answers over HTTP: tests/api/results_test.cpp.)
#include <catch2/catch.hpp>
#include <cmath>
#include <iterator>
#include <limits>
#include <random>
#include <vector>

#include "api/json_text.h"
#include "api/results.h"
#include "runtime/clock.h"

namespace api = trellis::api;
namespace runtime = trellis::runtime;
using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A bucket's start as the answer gave it before (api/results.cpp bucket_start),
// written again here so the reference does not lean on the code under test.
std::string reference_start(runtime::TimeMs start, const runtime::SeriesQuery& q) {
  if (!q.daily) return runtime::format_rfc3339(start);
  const int offset = runtime::utc_offset_minutes(start, q.zone);
  std::string text = runtime::format_rfc3339(start + offset * 60000LL);
  text.pop_back();
  char zone[16];
  const int magnitude = offset < 0 ? -offset : offset;
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset < 0 ? '-' : '+', magnitude / 60,
                magnitude % 60);
  return text + zone;
}

// The series as the answer built it before it was written as text: a json
// tree, dumped.
std::string reference_series(const runtime::FlowResults& results, const runtime::SeriesQuery& q) {
  json out = json::array();
  for (const runtime::SeriesBucket& b : results.series) {
    json messages = json::object();
    for (const auto& [channel, m] : b.messages)
      messages[channel] = {
          {"sent", m.sent},         {"failed", m.failed},   {"suppressed", m.suppressed},
          {"deferred", m.deferred}, {"dropped", m.dropped}, {"pending", m.pending}};
    out.push_back({{"start", reference_start(b.start, q)},
                   {"entered", b.entered},
                   {"exited", b.exited},
                   {"converted", b.converted},
                   {"revenue", b.revenue},
                   {"cost", b.cost},
                   {"messages", messages}});
  }
  return dump(out);
}

// Numbers that stress the formatting: whole and fractional sums, tiny and huge
// values, where Grisu2 and the switch to exponents matter, and non-finite ones.
double awkward_double(std::mt19937_64& rng) {
  static const double kSpecial[] = {0.0,          -0.0,
                                    0.1 + 0.2,    1e-7,
                                    1e15,         1e16,
                                    1e21,         1e300,
                                    5e-324,       -2.5,
                                    75.0,         0.0075,
                                    1.0 / 3,      123456789012345680.0,
                                    std::nan(""), std::numeric_limits<double>::infinity()};
  std::uniform_int_distribution<int> pick(0, 3);
  switch (pick(rng)) {
    case 0:
      return kSpecial[rng() % std::size(kSpecial)];
    case 1:
      return static_cast<double>(rng() % 100000) * 0.0075;  // sums of SMS prices
    case 2:
      return static_cast<double>(rng() % 1000) * 25.0;  // sums of whole revenues
    default:
      return std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 200) - 100);
  }
}

int64_t awkward_int(std::mt19937_64& rng) {
  static const int64_t kSpecial[] = {0, 1, -1, std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int64_t>::min()};
  return rng() % 4 == 0 ? kSpecial[rng() % std::size(kSpecial)]
                        : static_cast<int64_t>(rng() % 1000000);
}

runtime::FlowResults seeded_series(uint64_t seed, size_t buckets, runtime::TimeMs first,
                                   runtime::TimeMs step) {
  // Channels as they are, and ones to escape or check as UTF-8.
  static const char* kChannels[] = {"sms",         "email", "push", "webhook", "a\"quote",
                                    "back\\slash", "\x01x", "café", "bad\xff", "\x7f"};
  std::mt19937_64 rng(seed);
  runtime::FlowResults results;
  for (size_t i = 0; i < buckets; ++i) {
    runtime::SeriesBucket b;
    b.start = first + static_cast<runtime::TimeMs>(i) * step;
    b.entered = awkward_int(rng);
    b.exited = awkward_int(rng);
    b.converted = awkward_int(rng);
    b.revenue = awkward_double(rng);
    b.cost = awkward_double(rng);
    for (int c = static_cast<int>(rng() % 4); c > 0; --c) {
      runtime::MessageOutcomes& m = b.messages[kChannels[rng() % std::size(kChannels)]];
      m.sent = awkward_int(rng);
      m.failed = awkward_int(rng);
      m.suppressed = awkward_int(rng);
      m.deferred = awkward_int(rng);
      m.dropped = awkward_int(rng);
      m.pending = awkward_int(rng);
    }
    results.series.push_back(std::move(b));
  }
  return results;
}

}  // namespace

TEST_CASE("series text: byte for byte the json tree's dump, seeded buckets") {
  constexpr runtime::TimeMs kHour = 3600000, kT0 = 1767225600000LL;  // 2026-01-01
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("seed " << seed);
    runtime::SeriesQuery hours{kT0 - 200 * kHour, kT0, false, "UTC"};
    runtime::FlowResults hourly = seeded_series(seed, 200, hours.from, kHour);
    CHECK(api::series_text(hourly, hours) == reference_series(hourly, hours));
    // Local midnights with offsets that are not whole hours, and before 1970.
    for (const char* zone : {"Europe/Berlin", "Asia/Kolkata", "America/St_Johns"}) {
      runtime::SeriesQuery days{-40 * 24 * kHour, 40 * 24 * kHour, true, zone};
      runtime::FlowResults daily = seeded_series(seed, 80, days.from, 24 * kHour);
      CHECK(api::series_text(daily, days) == reference_series(daily, days));
    }
  }
  runtime::FlowResults none;
  CHECK(api::series_text(none, {}) == "[]");
}

TEST_CASE("series text: a member spliced where dump() puts it") {
  const json object = {{"b", 1}, {"d", json::array({1.5, "x"})}, {"f", {{"g", nullptr}}}};
  for (const char* name : {"a", "c", "e", "g", "b0"}) {
    json whole = object;
    whole[name] = json::parse("[{\"k\":0.1}]");
    CHECK(api::dump_with_member(object, name, "[{\"k\":0.1}]") == dump(whole));
  }
  CHECK(api::dump_with_member(json::object(), "series", "[]") == "{\"series\":[]}");
}
