#include "fixtures.h"

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
