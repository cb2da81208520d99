#include "fixtures.h"
#include "nodes/local_time.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

namespace {

constexpr Millis kHour = 3600 * 1000;

ir::WaitNode wait_pay() {
  ir::WaitNode wait;
  wait.wait_for = duration(72 * 3600, "72h");
  wait.until_event = ir::EventFilter{name("order_paid"), std::nullopt, {}};
  wait.on_event = name("paid");
  wait.next = name("pick");
  return wait;
}

std::unique_ptr<CompiledFlow> wait_flow(ir::WaitNode wait) {
  return compile(flow_of("f", {node("wait", std::move(wait)), node("paid", ir::ExitNode{}),
                               node("pick", ir::ExitNode{})}));
}

}  // namespace

TEST_CASE("wait arms a timer at now + for and waits for the event", "[wait]") {
  auto flow = wait_flow(wait_pay());
  Journey journey;

  Decision decision = journey.run(*flow, "wait", Input::entry());

  CHECK(decision.transition == Transition::kWait);
  CHECK_FALSE(decision.ignored);
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].op == TimerChange::Op::kArm);
  CHECK(decision.timers[0].due == kNow + 72 * kHour);
  CHECK(decision.awaiting.timer_due == kNow + 72 * kHour);
  CHECK(decision.awaiting.event_type == "order_paid");
  CHECK(decision.awaiting.where == nullptr);
  CHECK_THAT(decision.reason, Catch::Contains("72h"));
  CHECK_THAT(decision.reason, Catch::Contains("order_paid"));
  CHECK_THAT(decision.reason, Catch::Contains("2026-11-26T10:00:00Z"));
  CHECK(flow->awaited_event_types() == std::vector<std::string>{"order_paid"});
}

TEST_CASE("wait follows next when its timer fires", "[wait]") {
  auto flow = wait_flow(wait_pay());
  Journey journey;
  journey.now = kNow + 72 * kHour;
  Decision decision = journey.run(*flow, "wait", Input::of_timer(kNow + 72 * kHour));
  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "pick");
  CHECK(decision.edge == "next");
  CHECK(decision.timers.empty());
  CHECK_FALSE(decision.consumed_event);
  CHECK_THAT(decision.reason, Catch::Contains("timer of 72h fired"));
}

TEST_CASE("the awaited event wakes the wait early and cancels its timer", "[wait]") {
  auto flow = wait_flow(wait_pay());
  Journey journey;
  EventView paid{"e9", "order_paid", kNow + kHour, nullptr};

  Decision decision = journey.run(*flow, "wait", Input::of_event(paid));

  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "paid");
  CHECK(decision.edge == "on_event");
  CHECK(decision.consumed_event);
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].op == TimerChange::Op::kCancel);
}

TEST_CASE("wait ignores events of other types", "[wait]") {
  auto flow = wait_flow(wait_pay());
  Journey journey;
  EventView other{"e9", "page_view", kNow, nullptr};
  Decision decision = journey.run(*flow, "wait", Input::of_event(other));
  CHECK(decision.ignored);
  CHECK(decision.transition == Transition::kWait);
  CHECK(decision.timers.empty());
  CHECK_FALSE(decision.consumed_event);
}

TEST_CASE("until_event with where filters the awaited event", "[wait]") {
  ir::WaitNode wait = wait_pay();
  wait.until_event->where = expression(R"(event.path == "/cart" and event.total > user.limit)");
  auto flow = wait_flow(std::move(wait));
  Journey journey;
  journey.profile.set("limit", 10.0);
  expr::Record properties;
  properties.set("path", std::string_view("/home"));
  properties.set("total", 50.0);
  EventView event{"e3", "order_paid", kNow, &properties};

  Decision entry = journey.run(*flow, "wait", Input::entry());
  CHECK(entry.awaiting.where != nullptr);

  Decision miss = journey.run(*flow, "wait", Input::of_event(event));
  CHECK(miss.ignored);
  CHECK_THAT(miss.reason, Catch::Contains("where was false"));
  CHECK_THAT(miss.reason, Catch::Contains(R"(event.path = "/home")"));
  CHECK_THAT(miss.reason, Catch::Contains("user.limit = 10"));

  properties.set("path", std::string_view("/cart"));
  Decision hit = journey.run(*flow, "wait", Input::of_event(event));
  CHECK(hit.next == "paid");
  CHECK(hit.consumed_event);
  CHECK_THAT(hit.reason, Catch::Contains("where was true"));
}

TEST_CASE("until_event without for waits for ever", "[wait]") {
  ir::WaitNode wait = wait_pay();
  wait.wait_for.reset();
  auto flow = wait_flow(std::move(wait));
  Journey journey;

  Decision decision = journey.run(*flow, "wait", Input::entry());

  CHECK(decision.transition == Transition::kWait);
  CHECK(decision.timers.empty());
  CHECK_FALSE(decision.awaiting.timer_due.has_value());
  CHECK(decision.awaiting.event_type == "order_paid");
  CHECK_THAT(decision.reason, Catch::Contains("no timeout"));

  EventView paid{"e9", "order_paid", kNow, nullptr};
  Decision woke = journey.run(*flow, "wait", Input::of_event(paid));
  CHECK(woke.next == "paid");
  CHECK(woke.timers.empty());  // nothing to cancel
}

TEST_CASE("a timer-only wait ignores events", "[wait]") {
  ir::WaitNode wait = wait_pay();
  wait.until_event.reset();
  auto flow = wait_flow(std::move(wait));
  Journey journey;
  Decision decision = journey.run(*flow, "wait", Input::entry());
  CHECK(decision.awaiting.event_type.empty());
  REQUIRE(decision.timers.size() == 1);
  EventView paid{"e9", "order_paid", kNow, nullptr};
  CHECK(journey.run(*flow, "wait", Input::of_event(paid)).ignored);
}

// ---- until_time: a wall-clock time in the user's own zone -------------------

namespace {

constexpr Millis kFriday = 1'774'612'800'000;  // 2026-03-27T12:00:00Z, a Friday

ir::WaitNode at_local_time(const std::string& time, std::vector<std::string> days = {}) {
  ir::WaitNode wait;
  wait.until_time = ir::LocalTimeOfDay{*parse_time_of_day(time), time, {}};
  for (const std::string& day : days) wait.on_days.push_back(name(day));
  wait.next = name("pick");
  return wait;
}

Journey journey_in(const std::string& zone, Millis now) {
  Journey journey;
  if (!zone.empty()) journey.profile.set("timezone", zone);
  journey.now = now;
  return journey;
}

}  // namespace

TEST_CASE("until_time wakes at the local time in each user's own zone", "[wait][local_time]") {
  auto flow = wait_flow(at_local_time("10:00", {"mon", "tue"}));
  Journey berlin = journey_in("Europe/Berlin", kFriday);
  Decision decision = berlin.run(*flow, "wait", Input::entry());
  CHECK(decision.transition == Transition::kWait);
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].op == TimerChange::Op::kArm);
  CHECK(decision.timers[0].due == 1'774'857'600'000);  // Monday 10:00 CEST = 08:00Z
  CHECK(decision.awaiting.timer_due == decision.timers[0].due);
  CHECK(decision.awaiting.event_type.empty());
  CHECK(decision.reason == "waiting until 10:00 Europe/Berlin on mon,tue (2026-03-30T08:00:00Z)");

  Journey new_york = journey_in("America/New_York", kFriday);
  decision = new_york.run(*flow, "wait", Input::entry());
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].due == 1'774'879'200'000);  // Monday 10:00 EDT = 14:00Z
  CHECK(decision.reason ==
        "waiting until 10:00 America/New_York on mon,tue (2026-03-30T14:00:00Z)");
}

TEST_CASE("until_time without a timezone trait uses the default zone", "[wait][local_time]") {
  auto flow = wait_flow(at_local_time("9:00"));
  Journey journey = journey_in("", kFriday);
  CHECK(journey.run(*flow, "wait", Input::entry()).reason ==
        "waiting until 09:00 UTC (2026-03-28T09:00:00Z)");
  journey.default_timezone = "Europe/Berlin";
  CHECK(journey.run(*flow, "wait", Input::entry()).reason ==
        "waiting until 09:00 Europe/Berlin (2026-03-28T08:00:00Z)");
}

TEST_CASE("an unknown timezone trait falls back to the default, with a warning in the trace",
          "[wait][local_time]") {
  auto flow = wait_flow(at_local_time("10:00", {"mon"}));
  Journey journey = journey_in("Mars/Olympus_Mons", kFriday);
  journey.default_timezone = "Europe/Berlin";
  Decision decision = journey.run(*flow, "wait", Input::entry());
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].due == 1'774'857'600'000);
  CHECK(decision.reason ==
        "waiting until 10:00 Europe/Berlin on mon (2026-03-30T08:00:00Z); time zone "
        "'Mars/Olympus_Mons' is unknown; using Europe/Berlin");
}

TEST_CASE("until_time on the spring-forward day: a time in the gap is the end of the gap",
          "[wait][local_time]") {
  // 2026-03-29 in Berlin: clocks jump from 02:00 CET to 03:00 CEST; 02:30 never happens.
  auto flow = wait_flow(at_local_time("02:30"));
  Journey journey = journey_in("Europe/Berlin", 1'774'742'400'000);  // 01:00 CET
  Decision decision = journey.run(*flow, "wait", Input::entry());
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].due == 1'774'746'000'000);  // 03:00 CEST = 01:00Z
}

TEST_CASE("until_time on the autumn day: a time that happens twice is the first",
          "[wait][local_time]") {
  // 2026-10-25 in Berlin: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
  auto flow = wait_flow(at_local_time("02:30"));
  Journey journey = journey_in("Europe/Berlin", 1'792'879'200'000);  // 00:00 CEST
  Decision decision = journey.run(*flow, "wait", Input::entry());
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].due == 1'792'888'200'000);  // 02:30 CEST = 00:30Z
}

TEST_CASE("until_time is strictly after arrival and honours the weekdays", "[wait][local_time]") {
  auto flow = wait_flow(at_local_time("10:00", {"tue"}));
  // Arriving on Tuesday at exactly 10:00 Berlin waits for next Tuesday.
  Journey journey = journey_in("Europe/Berlin", 1'774'944'000'000);  // Tue 2026-03-31T08:00Z
  Decision decision = journey.run(*flow, "wait", Input::entry());
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].due == 1'774'944'000'000 + 7 * 24 * kHour);
  // A minute earlier it is the same morning.
  journey.now -= 60'000;
  CHECK(journey.run(*flow, "wait", Input::entry()).timers[0].due == 1'774'944'000'000);
}

TEST_CASE("until_time follows next when its timer fires", "[wait][local_time]") {
  auto flow = wait_flow(at_local_time("10:00", {"mon", "tue"}));
  Journey journey = journey_in("Europe/Berlin", 1'774'857'600'000);
  Decision decision = journey.run(*flow, "wait", Input::of_timer(1'774'857'600'000));
  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "pick");
  CHECK(decision.edge == "next");
  CHECK(decision.reason == "until_time 10:00 reached (due 2026-03-30T08:00:00Z)");
}

TEST_CASE("until_time with until_event: the event wins early and cancels the timer",
          "[wait][local_time]") {
  ir::WaitNode wait = at_local_time("10:00");
  wait.until_event = ir::EventFilter{name("order_paid"), std::nullopt, {}};
  wait.on_event = name("paid");
  auto flow = wait_flow(std::move(wait));
  Journey journey = journey_in("Europe/Berlin", kFriday);
  Decision entry = journey.run(*flow, "wait", Input::entry());
  CHECK(entry.awaiting.event_type == "order_paid");
  CHECK(entry.reason ==
        "waiting until 10:00 Europe/Berlin (2026-03-28T09:00:00Z), or for event 'order_paid'");
  EventView paid{"e9", "order_paid", kFriday + kHour, nullptr};
  Decision decision = journey.run(*flow, "wait", Input::of_event(paid));
  CHECK(decision.next == "paid");
  REQUIRE(decision.timers.size() == 1);
  CHECK(decision.timers[0].op == TimerChange::Op::kCancel);
}
