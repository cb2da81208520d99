// The seeds' cart reminder (docs/flows.md) walked node by node through decide(), as
// the runtime would drive it: each kNext enters the next node, a claim is
// answered with a code, a wait is woken by its timer.
#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;
using std::string_view;

namespace {

std::unique_ptr<CompiledFlow> cart_reminder() {
  ir::WaitNode wait_pay;
  wait_pay.wait_for = duration(72 * 3600, "72h");
  wait_pay.until_event = ir::EventFilter{name("order_paid"), std::nullopt, {}};
  wait_pay.on_event = name("done");
  wait_pay.next = name("pick");
  ir::SegmentNode pick;
  pick.match = expression(R"(user.age > 30 and "education" in user.interests and not user.paid)");
  pick.yes = name("give_coupon");
  pick.no = name("done");
  ir::CouponNode give_coupon;
  give_coupon.pool = name("SPRING20");
  give_coupon.next = name("mail");
  give_coupon.on_exhausted = name("done");
  ir::EmailNode mail;
  mail.subject = text("Your cart is waiting, {{user.first_name}}");
  mail.body = text("Use {{coupon.code}} for 20% off.");
  mail.next = name("done");
  return compile(flow_of("cart_reminder", {node("wait_pay", wait_pay), node("pick", pick),
                                           node("give_coupon", give_coupon), node("mail", mail)}));
}

// Runs from `node_id` on `input` until the journey waits or ends; answers
// coupon claims from `codes`. Returns the deliveries and the path taken.
struct Run {
  std::vector<Delivery> deliveries;
  std::vector<std::string> path;
  Transition last = Transition::kWait;
};

Run drive(const CompiledFlow& flow, Journey& journey, std::string node_id, Input input,
          std::vector<std::string> codes) {
  Run run;
  for (int steps = 0; steps < 20; ++steps) {
    run.path.push_back(node_id);
    Decision decision = journey.run(flow, node_id, input);
    for (Delivery& delivery : decision.deliveries) run.deliveries.push_back(delivery);
    if (decision.coupon_given) journey.coupon_code = *decision.coupon_given;
    if (decision.claim) {
      std::optional<std::string> code;
      if (!codes.empty()) {
        code = codes.front();
        codes.erase(codes.begin());
      }
      input = Input::of_coupon(code);
      run.path.pop_back();
      continue;
    }
    run.last = decision.transition;
    if (decision.transition != Transition::kNext) return run;
    node_id = decision.next;
    input = Input::entry();
  }
  FAIL("journey did not settle");
  return run;
}

}  // namespace

TEST_CASE("cart reminder: 72h later a matching user gets a coupon by email", "[journey]") {
  auto flow = cart_reminder();
  Journey journey;
  journey.profile.set("age", 34.0);
  journey.profile.set_list("interests", {expr::ValueView::of(string_view("education"))});
  journey.profile.set("paid", false);
  journey.profile.set("email", string_view("ana@example.com"));
  journey.profile.set("first_name", string_view("Ana"));

  Run entered = drive(*flow, journey, "wait_pay", Input::entry(), {});
  CHECK(entered.last == Transition::kWait);
  CHECK(entered.deliveries.empty());

  journey.now = kNow + 72 * 3600 * 1000;
  Run woke = drive(*flow, journey, "wait_pay", Input::of_timer(journey.now), {"C-001"});
  CHECK(woke.last == Transition::kEnd);
  CHECK(woke.path == std::vector<std::string>{"wait_pay", "pick", "give_coupon", "mail", "done"});
  REQUIRE(woke.deliveries.size() == 2);
  CHECK(woke.deliveries[0].channel == Channel::kCoupon);
  CHECK(woke.deliveries[0].body == "C-001");
  CHECK(woke.deliveries[1].channel == Channel::kEmail);
  CHECK(woke.deliveries[1].subject == "Your cart is waiting, Ana");
  CHECK(woke.deliveries[1].body == "Use C-001 for 20% off.");
}

TEST_CASE("cart reminder: an empty pool ends without deliveries", "[journey]") {
  auto flow = cart_reminder();
  Journey journey;
  journey.profile.set("age", 34.0);
  journey.profile.set_list("interests", {expr::ValueView::of(string_view("education"))});
  journey.profile.set("email", string_view("ana@example.com"));
  Run run = drive(*flow, journey, "pick", Input::entry(), {});
  CHECK(run.path == std::vector<std::string>{"pick", "give_coupon", "done"});
  CHECK(run.deliveries.empty());
}
