// Every kind's step-history reason, byte for byte. Reasons are user-visible
// (step history, `trellis test` output), so a faster formatter must not change
// a single character; these strings were captured from the strftime/snprintf
// implementation before it was replaced.
#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;
using std::string_view;

namespace {

constexpr Millis kHour = 3600 * 1000;

// One node of each kind and shape the reasons below need.
std::unique_ptr<CompiledFlow> reasons_flow() {
  ir::WaitNode wait_pay;
  wait_pay.wait_for = duration(72 * 3600, "72h");
  wait_pay.until_event = ir::EventFilter{name("order_paid"), std::nullopt, {}};
  wait_pay.on_event = name("done");
  wait_pay.next = name("pick");

  ir::WaitNode wait_where;
  wait_where.until_event = ir::EventFilter{name("order_paid"), expression("event.value > 10"), {}};
  wait_where.next = name("done");

  ir::WaitNode wait_timer;
  wait_timer.wait_for = duration(90, "");  // IR built in memory: no source text
  wait_timer.next = name("done");

  ir::WaitNode wait_nothing;
  wait_nothing.next = name("done");

  ir::SegmentNode pick;
  pick.match = expression(R"(user.age > 30 and "education" in user.interests and not user.paid)");
  pick.yes = name("done");
  pick.no = name("nudge");

  ir::SegmentNode city;
  city.match = expression(R"(user.city == "Oslo" or user.city == "Bergen")");
  city.yes = name("done");  // `no` left empty: the journey ends

  ir::AbNode nudge;
  nudge.variants = {variant("a", 45, "sms"), variant("b", 45, "sms"),
                    variant("control", 10, "done")};
  ir::AbNode odd;
  odd.variants = {variant("x", 2.5, "done"), variant("y", 0.25, "done")};

  ir::SmsNode sms;
  sms.text = text(R"(Hi {{user.first_name | default: "there"}}, your cart misses you!)");
  sms.next = name("done");
  ir::SmsNode long_sms;
  long_sms.text = text(std::string(100, 'x'));
  long_sms.next = name("done");

  ir::EmailNode mail;
  mail.subject = text("Your cart is waiting, {{user.first_name}}");
  mail.body = text("Use {{coupon.code}}.");
  mail.next = name("done");

  return compile(
      flow_of("cart_reminder",
              {node("wait_pay", wait_pay), node("wait_where", wait_where),
               node("wait_timer", wait_timer), node("wait_nothing", wait_nothing),
               node("pick", pick), node("city", city), node("nudge", nudge), node("odd", odd),
               node("sms", sms), node("long_sms", long_sms), node("mail", mail)}));
}

std::string reason(const CompiledFlow& flow, Journey& journey, std::string_view node_id,
                   const Input& input) {
  return journey.run(flow, node_id, input).reason;
}

}  // namespace

TEST_CASE("wait reasons", "[reasons]") {
  auto flow = reasons_flow();
  Journey journey;
  CHECK(reason(*flow, journey, "wait_pay", Input::entry()) ==
        "waiting 72h, until 2026-11-26T10:00:00Z, or for event 'order_paid'");
  CHECK(reason(*flow, journey, "wait_where", Input::entry()) ==
        "waiting for event 'order_paid' where event.value > 10 (no timeout)");
  CHECK(reason(*flow, journey, "wait_nothing", Input::entry()) ==
        "wait has neither 'for', 'until_time' nor 'until_event'");
  journey.now = kNow + 250;
  CHECK(reason(*flow, journey, "wait_timer", Input::entry()) ==
        "waiting 90s, until 2026-11-23T10:01:30.250Z");

  CHECK(reason(*flow, journey, "wait_pay", Input::of_timer(kNow + 72 * kHour)) ==
        "timer of 72h fired (due 2026-11-26T10:00:00Z)");
  CHECK(reason(*flow, journey, "wait_timer", Input::of_timer(kNow + 90'007)) ==
        "timer of 90s fired (due 2026-11-23T10:01:30.007Z)");
  CHECK(reason(*flow, journey, "wait_where", Input::of_timer(kNow)) ==
        "timer ignored: this wait has no 'for'");

  expr::Record properties;
  properties.set("value", 30.0);
  EventView paid{"e9", "order_paid", kNow + kHour, &properties};
  CHECK(reason(*flow, journey, "wait_pay", Input::of_event(paid)) == "event 'order_paid' arrived");
  CHECK(reason(*flow, journey, "wait_where", Input::of_event(paid)) ==
        "event 'order_paid' arrived and where was true: event.value = 30; no 'on_event', "
        "following 'next'");
  properties.set("value", 5.5);
  CHECK(reason(*flow, journey, "wait_where", Input::of_event(paid)) ==
        "event 'order_paid' ignored: where was false: event.value = 5.5");
  EventView view{"e10", "page_view", kNow, nullptr};
  CHECK(reason(*flow, journey, "wait_pay", Input::of_event(view)) ==
        "event 'page_view' ignored: not awaited here");
}

TEST_CASE("segment reasons", "[reasons]") {
  auto flow = reasons_flow();
  Journey journey;
  CHECK(reason(*flow, journey, "pick", Input::entry()) ==
        "match was false: user.age is missing, user.interests is missing, user.paid is missing");
  journey.profile.set("age", 34.0);
  journey.profile.set_list("interests", {expr::ValueView::of(string_view("education")),
                                         expr::ValueView::of(string_view("a\"b\n")),
                                         expr::ValueView::of(2.5), expr::ValueView::null()});
  journey.profile.set("paid", false);
  CHECK(reason(*flow, journey, "pick", Input::entry()) ==
        R"(match was true: user.age = 34, user.interests = ["education", "a\"b\n", 2.5, null], )"
        R"(user.paid = false)");
  journey.profile.set("age", 1e20);
  CHECK(reason(*flow, journey, "pick", Input::entry()) ==
        "match was true: user.age = 1e+20, user.interests = [\"education\", \"a\\\"b\\n\", 2.5, "
        "null], user.paid = false");

  // A path read twice is described once; quotes and backslashes are escaped.
  CHECK(reason(*flow, journey, "city", Input::entry()) ==
        "match was false: user.city is missing; no 'no' target, so the journey ends");
  journey.profile.set("city", string_view("Os\"lo\\\n"));
  CHECK(reason(*flow, journey, "city", Input::entry()) ==
        "match was false: user.city = \"Os\\\"lo\\\\\n\"; no 'no' target, so the journey ends");
}

TEST_CASE("ab reasons", "[reasons]") {
  auto flow = reasons_flow();
  Journey journey;
  journey.user = "u1";
  CHECK(reason(*flow, journey, "nudge", Input::entry()) ==
        "variant 'control' (weight 10 of 100) for user u1, hash point 0.940233");
  journey.user = "u7";
  CHECK(reason(*flow, journey, "nudge", Input::entry()) ==
        "variant 'a' (weight 45 of 100) for user u7, hash point 0.0650193");
  journey.user = "u1";
  CHECK(reason(*flow, journey, "odd", Input::entry()) ==
        "variant 'x' (weight 2.5 of 2.75) for user u1, hash point 0.482432");
}

TEST_CASE("message and exit reasons", "[reasons]") {
  auto flow = reasons_flow();
  Journey journey;
  CHECK(reason(*flow, journey, "sms", Input::entry()) == "not sent: user.phone is missing");
  CHECK(reason(*flow, journey, "mail", Input::entry()) == "not sent: user.email is missing");
  journey.profile.set("phone", string_view("+4712345678"));
  journey.profile.set("email", string_view("ana@example.com"));
  journey.profile.set("first_name", string_view("Ana"));
  CHECK(reason(*flow, journey, "sms", Input::entry()) ==
        "sms to +4712345678: \"Hi Ana, your cart misses you!\"");
  CHECK(reason(*flow, journey, "long_sms", Input::entry()) ==
        "sms to +4712345678: \"" + std::string(80, 'x') + "...\"");
  CHECK(reason(*flow, journey, "mail", Input::entry()) ==
        "email to ana@example.com: \"Your cart is waiting, Ana\"");
  journey.profile.set("phone", 4712345678.0);
  CHECK(reason(*flow, journey, "sms", Input::entry()) ==
        "sms to 4712345678: \"Hi Ana, your cart misses you!\"");
  CHECK(reason(*flow, journey, "done", Input::entry()) == "reached exit 'done'");
}

TEST_CASE("inputs a kind does not expect, and unknown nodes", "[reasons]") {
  auto flow = reasons_flow();
  Journey journey;
  CHECK(reason(*flow, journey, "pick", Input::of_timer(kNow - 1)) ==
        "timer due 2026-11-23T09:59:59.999Z ignored: a segment node arms no timer");
  EventView paid{"e9", "order_paid", kNow, nullptr};
  CHECK(reason(*flow, journey, "nudge", Input::of_event(paid)) ==
        "event 'order_paid' ignored: a ab node waits for no event");
  CHECK(reason(*flow, journey, "done", Input::of_coupon(std::nullopt)) ==
        "coupon claim ignored: a exit node claims no coupon");
  CHECK(reason(*flow, journey, "nope", Input::entry()) ==
        "node 'nope' does not exist in flow 'cart_reminder' version 1");
}
