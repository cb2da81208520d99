#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;
using std::string_view;

namespace {

std::unique_ptr<CompiledFlow> message_flow() {
  ir::SmsNode sms;
  sms.text = text(R"(Hi {{user.first_name | default: "there"}}, your cart misses you!)");
  sms.next = name("done");
  ir::EmailNode email;
  email.subject = text(R"(Your cart is waiting, {{user.first_name | default: "friend"}})");
  email.body = text("Use {{coupon.code}} for 20% off {{event.value}} EUR.");
  email.next = name("done");
  ir::WebhookNode webhook;
  webhook.url = text("https://crm.example.com/leads/{{user.crm_id}}");
  webhook.body = text(R"({"user": "{{user.email}}", "code": "{{coupon.code | default: "none"}}"})");
  webhook.next = name("done");
  return compile(flow_of("f", {node("sms", sms), node("mail", email), node("crm", webhook)}));
}

}  // namespace

TEST_CASE("sms renders its text for user.phone", "[sms]") {
  auto flow = message_flow();
  Journey journey;
  journey.profile.set("phone", string_view("+4712345678"));
  journey.profile.set("first_name", string_view("Ana"));

  Decision decision = journey.run(*flow, "sms", Input::entry());

  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "done");
  REQUIRE(decision.deliveries.size() == 1);
  const Delivery& sms = decision.deliveries[0];
  CHECK(sms.channel == Channel::kSms);
  CHECK(sms.to == "+4712345678");
  CHECK(sms.body == "Hi Ana, your cart misses you!");
  CHECK_THAT(decision.reason, Catch::Contains("+4712345678"));
}

TEST_CASE("sms uses the template default when a trait is missing", "[sms]") {
  auto flow = message_flow();
  Journey journey;
  journey.profile.set("phone", string_view("+4712345678"));
  Decision decision = journey.run(*flow, "sms", Input::entry());
  REQUIRE(decision.deliveries.size() == 1);
  CHECK(decision.deliveries[0].body == "Hi there, your cart misses you!");
}

TEST_CASE("sms without a phone follows next, sends nothing and says why", "[sms]") {
  auto flow = message_flow();
  Journey journey;
  journey.profile.set("first_name", string_view("Ana"));
  Decision decision = journey.run(*flow, "sms", Input::entry());
  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "done");
  CHECK(decision.deliveries.empty());
  CHECK(decision.reason == "not sent: user.phone is missing");

  journey.profile.set("phone", string_view(""));
  CHECK(journey.run(*flow, "sms", Input::entry()).deliveries.empty());
}

TEST_CASE("email renders subject and body with coupon.code and the trigger event", "[email]") {
  auto flow = message_flow();
  Journey journey;
  journey.profile.set("email", string_view("ana@example.com"));
  journey.profile.set("first_name", string_view("Ana"));
  journey.trigger_properties.set("value", 59.0);
  journey.coupon_code = "C-001";

  Decision decision = journey.run(*flow, "mail", Input::entry());

  REQUIRE(decision.deliveries.size() == 1);
  const Delivery& email = decision.deliveries[0];
  CHECK(email.channel == Channel::kEmail);
  CHECK(email.to == "ana@example.com");
  CHECK(email.subject == "Your cart is waiting, Ana");
  CHECK(email.body == "Use C-001 for 20% off 59 EUR.");
}

TEST_CASE("email without an address is not sent", "[email]") {
  auto flow = message_flow();
  Journey journey;
  Decision decision = journey.run(*flow, "mail", Input::entry());
  CHECK(decision.next == "done");
  CHECK(decision.deliveries.empty());
  CHECK(decision.reason == "not sent: user.email is missing");
}

TEST_CASE("webhook renders url and body", "[webhook]") {
  auto flow = message_flow();
  Journey journey;
  journey.profile.set("crm_id", 42.0);
  journey.profile.set("email", string_view("ana@example.com"));

  Decision decision = journey.run(*flow, "crm", Input::entry());

  REQUIRE(decision.deliveries.size() == 1);
  const Delivery& post = decision.deliveries[0];
  CHECK(post.channel == Channel::kWebhook);
  CHECK(post.to == "https://crm.example.com/leads/42");
  CHECK(post.body == R"({"user": "ana@example.com", "code": "none"})");
}

TEST_CASE("exit ends the journey", "[exit]") {
  auto flow = message_flow();
  Journey journey;
  Decision decision = journey.run(*flow, "done", Input::entry());
  CHECK(decision.transition == Transition::kEnd);
  CHECK(decision.next.empty());
  CHECK_THAT(decision.reason, Catch::Contains("exit"));
}
