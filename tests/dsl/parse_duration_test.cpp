#include <catch2/catch.hpp>

#include "dsl/parse.h"

using trellis::dsl::parse_duration;
using trellis::ir::Diagnostics;
using trellis::ir::SourceSpan;

TEST_CASE("durations in short form and ISO 8601") {
  auto [text, seconds] = GENERATE(table<std::string, int64_t>({
      {"90s", 90},
      {"30m", 1800},
      {"72h", 259200},
      {"7d", 604800},
      {"2w", 1209600},
      {"0s", 0},
      {" 72h ", 259200},
      {"PT72H", 259200},
      {"P1DT2H", 93600},
      {"P7D", 604800},
      {"PT90S", 90},
      {"PT1H30M", 5400},
      {"P2W", 1209600},
      {"pt5m", 300},
  }));
  CAPTURE(text);
  Diagnostics diagnostics;
  auto duration = parse_duration(text, {4, 10, 50, 0}, "f.yaml", diagnostics);
  CHECK(diagnostics.empty());
  REQUIRE(duration);
  CHECK(duration->seconds == seconds);
  CHECK(duration->source == text);
  CHECK(duration->span.column == 10);
}

TEST_CASE("bad durations say what to write instead") {
  auto [text, message] = GENERATE(table<std::string, std::string>({
      {"72", "'72' needs a unit: 72s, 72m, 72h or 72d"},
      {"3 days", "unknown duration unit ' days' in '3 days'; use s, m, h, d or w"},
      {"1.5h", "'1.5h': use a whole number of units (90m, not 1.5h)"},
      {"soon", "'soon' is not a duration; write it like 72h, 30m, 90s, 7d or PT72H"},
      {"", "empty duration; write it like 72h, 30m, 90s, 7d or PT72H"},
      {"P1M", "'P1M': years and months have no fixed length; use days (P30D)"},
      {"PT", "'PT' is not an ISO 8601 duration; write it like PT72H, P7D or P1DT2H"},
      {"P1H", "'P1H' is not an ISO 8601 duration; write it like PT72H, P7D or P1DT2H"},
      {"999999999999999d",
       "'999999999999999d' is not a duration; write it like 72h, 30m, 90s, 7d or PT72H"},
      {"99999d", "'99999d' is too long a duration"},
  }));
  CAPTURE(text);
  Diagnostics diagnostics;
  auto duration = parse_duration(text, {4, 10, 50, 0}, "f.yaml", diagnostics);
  CHECK_FALSE(duration);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(diagnostics.items()[0].message == message);
  CHECK(diagnostics.items()[0].span.line == 4);
  CHECK(diagnostics.items()[0].span.column == 10);
}
