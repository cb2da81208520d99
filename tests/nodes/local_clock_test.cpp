// local_hour() and local_weekday(): `now` on the user's wall clock, resolved by
// the nodes' FlowScope (the expression library itself knows no time zones).
#include "fixtures.h"
#include "nodes/scope.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

namespace {

constexpr Millis kSundayNight = 1'774'822'200'000;  // 2026-03-29T22:10:00Z, a Sunday

expr::ValueView evaluate(const std::string& source, const FlowScope& scope) {
  static std::vector<expr::Program> programs;  // keeps string results alive for the test
  programs.push_back(expr::Program::compile(*expression(source).tree));
  return programs.back().evaluate(scope);
}

}  // namespace

TEST_CASE("local_hour and local_weekday read now in the user's time zone", "[local_time]") {
  expr::Record profile;
  profile.set("timezone", "Asia/Tokyo");  // UTC+9: Monday 07:10
  FlowScope tokyo(&profile, nullptr, nullptr, {}, kSundayNight, "UTC");
  CHECK(evaluate("local_hour()", tokyo).number == 7);
  CHECK(evaluate("local_weekday()", tokyo).string() == "mon");
  CHECK(evaluate("local_hour() >= 7 and local_weekday() == \"mon\"", tokyo).boolean);

  profile.set("timezone", "America/Los_Angeles");  // UTC-7 (PDT): Sunday 15:10
  FlowScope los_angeles(&profile, nullptr, nullptr, {}, kSundayNight, "UTC");
  CHECK(evaluate("local_hour()", los_angeles).number == 15);
  CHECK(evaluate("local_weekday()", los_angeles).string() == "sun");
}

TEST_CASE("local helpers use the default zone without a valid timezone trait", "[local_time]") {
  expr::Record profile;
  FlowScope plain(&profile, nullptr, nullptr, {}, kSundayNight, "Europe/Berlin");  // 00:10 Mon
  CHECK(evaluate("local_hour()", plain).number == 0);
  CHECK(evaluate("local_weekday()", plain).string() == "mon");
  profile.set("timezone", "Nowhere/Atlantis");
  FlowScope unknown(&profile, nullptr, nullptr, {}, kSundayNight, "UTC");
  CHECK(evaluate("local_hour()", unknown).number == 22);
  CHECK(evaluate("local_weekday()", unknown).string() == "sun");
}

TEST_CASE("a segment can branch on the user's local hour", "[local_time]") {
  ir::SegmentNode morning;
  morning.match = expression("local_hour() < 12");
  morning.yes = name("done");
  morning.no = name("done");
  auto flow = compile(flow_of("f", {node("morning", morning)}));
  Journey journey;
  journey.now = kSundayNight;
  journey.default_timezone = "Asia/Tokyo";
  Decision decision = journey.run(*flow, "morning", Input::entry());
  CHECK(decision.edge == "yes");
  journey.default_timezone = "UTC";
  CHECK(journey.run(*flow, "morning", Input::entry()).edge == "no");
}
