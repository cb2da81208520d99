#include "fixtures.h"
#include "nodes/scope.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

TEST_CASE("a flow compiles its trigger and finds its nodes", "[flow]") {
  ir::Flow flow = flow_of("cart_reminder", {});
  flow.start = name("done");
  flow.trigger.when = expression("event.value >= 20");
  flow.trigger.key = expression("event.cart_id");
  auto compiled = compile(std::move(flow), 7);

  CHECK(compiled->name() == "cart_reminder");
  CHECK(compiled->version() == 7);
  REQUIRE(compiled->start() != nullptr);
  CHECK(compiled->start()->id() == "done");
  CHECK(compiled->find("nope") == nullptr);
  REQUIRE(compiled->trigger_when() != nullptr);
  REQUIRE(compiled->trigger_key() != nullptr);

  expr::Record properties;
  properties.set("value", 59.0);
  properties.set("cart_id", std::string_view("c-17"));
  EventView event{"e1", "add_to_cart", kNow, &properties};
  FlowScope scope(nullptr, &event, nullptr, {}, kNow);
  CHECK(compiled->trigger_when()->test(scope));
  CHECK(expr::to_display(compiled->trigger_key()->evaluate(scope)) == "c-17");
  properties.set("value", 5.0);
  CHECK_FALSE(compiled->trigger_when()->test(scope));
}

TEST_CASE("a flow with an unparsed expression does not compile", "[flow]") {
  ir::SegmentNode broken;
  broken.match = ir::Expression{"user.age >", {}, std::nullopt};
  broken.yes = name("done");
  broken.no = name("done");
  auto compiled = CompiledFlow::compile(flow_of("f", {node("pick", broken)}));
  REQUIRE_FALSE(compiled.ok());
  CHECK_THAT(compiled.error().message, Catch::Contains("node 'pick'"));
  CHECK_THAT(compiled.error().message, Catch::Contains("match"));
}

TEST_CASE("deciding an unknown node ends the journey with a reason", "[flow]") {
  auto flow = compile(flow_of("f", {}));
  Journey journey;
  Decision decision = journey.run(*flow, "gone", Input::entry());
  CHECK(decision.transition == Transition::kEnd);
  CHECK_THAT(decision.reason, Catch::Contains("'gone' does not exist"));
}

TEST_CASE("a missing target ends the journey instead of going nowhere", "[flow]") {
  ir::SegmentNode pick;
  pick.match = expression("true");
  pick.no = name("done");  // yes left empty: the checker would reject it
  auto flow = compile(flow_of("f", {node("pick", pick)}));
  Journey journey;
  Decision decision = journey.run(*flow, "pick", Input::entry());
  CHECK(decision.transition == Transition::kEnd);
  CHECK_THAT(decision.reason, Catch::Contains("no 'yes' target"));
}

TEST_CASE("the scope reads last_event, event.id and coupon.code", "[flow]") {
  expr::Record paid;
  paid.set("total", 80.0);
  EventView last{"e5", "order_paid", kNow, &paid};
  EventView trigger{"e1", "add_to_cart", kNow - 1000, nullptr};
  FlowScope scope(nullptr, &trigger, &last, "C-9", kNow);
  auto at = [&](ir::PathRoot root, const char* path) {
    return expr::to_display(scope.lookup(expr::intern_path(root, path)));
  };
  CHECK(at(ir::PathRoot::kLastEvent, "total") == "80");
  CHECK(at(ir::PathRoot::kLastEvent, "type") == "order_paid");
  CHECK(at(ir::PathRoot::kEvent, "id") == "e1");
  CHECK(at(ir::PathRoot::kCoupon, "code") == "C-9");
  CHECK(scope.lookup(expr::intern_path(ir::PathRoot::kUser, "age")).is_null());
  CHECK(scope.now() == static_cast<double>(kNow) / 1000.0);
}
