#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;
using std::string_view;

namespace {

std::unique_ptr<CompiledFlow> segment_flow() {
  ir::SegmentNode pick;
  pick.match = expression(R"(user.age > 30 and "education" in user.interests and not user.paid)");
  pick.yes = name("coupon");
  pick.no = name("nudge");
  return compile(flow_of("cart_reminder", {node("pick", pick)}));
}

}  // namespace

TEST_CASE("segment takes yes and names the values it saw", "[segment]") {
  auto flow = segment_flow();
  Journey journey;
  journey.profile.set("age", 34.0);
  journey.profile.set_list("interests", {expr::ValueView::of(string_view("education"))});
  journey.profile.set("paid", false);

  Decision decision = journey.run(*flow, "pick", Input::entry());

  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "coupon");
  CHECK(decision.edge == "yes");
  CHECK(decision.deliveries.empty());
  CHECK_THAT(decision.reason, Catch::StartsWith("match was true"));
  CHECK_THAT(decision.reason, Catch::Contains("user.age = 34"));
  CHECK_THAT(decision.reason, Catch::Contains(R"(user.interests = ["education"])"));
  CHECK_THAT(decision.reason, Catch::Contains("user.paid = false"));
}

TEST_CASE("segment takes no when the match is false", "[segment]") {
  auto flow = segment_flow();
  Journey journey;
  journey.profile.set("age", 34.0);
  journey.profile.set_list("interests", {expr::ValueView::of(string_view("education"))});
  journey.profile.set("paid", true);

  Decision decision = journey.run(*flow, "pick", Input::entry());

  CHECK(decision.next == "nudge");
  CHECK(decision.edge == "no");
  CHECK_THAT(decision.reason, Catch::Contains("match was false"));
  CHECK_THAT(decision.reason, Catch::Contains("user.paid = true"));
}

TEST_CASE("segment with a missing trait takes no and says it is missing", "[segment]") {
  auto flow = segment_flow();
  Journey journey;  // no age, no interests, no paid
  journey.profile.set_list("interests", {expr::ValueView::of(string_view("education"))});

  Decision decision = journey.run(*flow, "pick", Input::entry());

  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "nudge");
  CHECK_THAT(decision.reason, Catch::Contains("user.age is missing"));
}

TEST_CASE("segment reads the trigger event, event.type and now", "[segment]") {
  ir::SegmentNode big;
  big.match =
      expression(R"(event.type == "add_to_cart" and event.value >= 20 and now - event.time < 1h)");
  big.yes = name("done");
  big.no = name("other");
  auto flow = compile(flow_of("f", {node("big", big), node("other", ir::ExitNode{})}));

  Journey journey;
  journey.trigger_properties.set("value", 59.0);
  journey.now = kNow + 10 * 60 * 1000;
  CHECK(journey.run(*flow, "big", Input::entry()).next == "done");

  journey.now = kNow + 2 * 3600 * 1000;  // the event is now two hours old
  CHECK(journey.run(*flow, "big", Input::entry()).next == "other");

  journey.now = kNow;
  journey.trigger_properties.set("value", 5.0);
  CHECK(journey.run(*flow, "big", Input::entry()).next == "other");
}

TEST_CASE("segment ignores events and timers", "[segment]") {
  auto flow = segment_flow();
  Journey journey;
  EventView event{"e2", "order_paid", kNow, nullptr};
  Decision decision = journey.run(*flow, "pick", Input::of_event(event));
  CHECK(decision.ignored);
  CHECK(decision.transition == Transition::kWait);
  CHECK(journey.run(*flow, "pick", Input::of_timer(kNow)).ignored);
}
