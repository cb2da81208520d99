// The YAML front end: what lands in the IR, where its positions point, the
// comments kept for `fmt`, and inputs that must not throw.
#include <catch2/catch.hpp>
#include <cmath>

#include "dsl/yaml_loader.h"
#include "tests/dsl/flow_test_support.h"
#include "tests/dsl/spec_example.h"

using namespace trellis;
using trellis::test::read_text;
using trellis::test::source_path;

namespace {

// No errors; warnings are the checker's business (the cart reminder example draws the
// warning that its `on_event` is never taken, order_paid being in exit_on).
ir::Flow load_clean(const std::string& text) {
  dsl::LoadResult result = test::check_yaml(text);
  INFO(test::render_all(result));
  REQUIRE(result.flow.has_value());
  REQUIRE(!result.diagnostics.has_errors());
  return *result.flow;
}

}  // namespace

TEST_CASE("the documented cart reminder (docs/flows.md) loads into the IR in full") {
  ir::Flow flow = load_clean(dsl::test::kSpecCartReminder);
  CHECK(flow.name.value == "cart_reminder");
  CHECK(flow.description == "Nudge shoppers who leave a cart unpaid for 72 hours.");
  CHECK(flow.trigger.event.value == "add_to_cart");
  REQUIRE(flow.trigger.when.has_value());
  CHECK(flow.trigger.when->source == "event.value >= 20");
  CHECK(flow.trigger.when->tree.has_value());
  REQUIRE(flow.trigger.key.has_value());
  CHECK(flow.trigger.key->source == "event.cart_id");
  CHECK(flow.re_entry.policy == ir::ReEntryPolicy::kNever);
  REQUIRE(flow.exit_on.size() == 2);
  CHECK(flow.exit_on[1].value == "unsubscribe");
  REQUIRE(flow.goal.has_value());
  CHECK(flow.goal->event.value == "order_paid");
  CHECK(flow.start.value == "wait_pay");

  std::vector<std::string> ids;
  for (const ir::Node& node : flow.nodes) ids.push_back(node.id);
  CHECK(ids == std::vector<std::string>{"wait_pay", "pick", "give_coupon", "mail", "nudge", "sms_a",
                                        "sms_b", "done"});
  const ir::WaitNode* wait = flow.find_node("wait_pay")->as<ir::WaitNode>();
  REQUIRE(wait);
  CHECK(wait->wait_for->seconds == 72 * 3600);
  CHECK(wait->until_event->event.value == "order_paid");
  CHECK(wait->on_event.value == "done");
  CHECK(wait->next.value == "pick");
  const ir::CouponNode* coupon = flow.find_node("give_coupon")->as<ir::CouponNode>();
  REQUIRE(coupon);
  CHECK(coupon->pool->value == "SPRING20");
  CHECK(coupon->on_exhausted.value == "nudge");
  const ir::AbNode* ab = flow.find_node("nudge")->as<ir::AbNode>();
  REQUIRE(ab);
  REQUIRE(ab->variants.size() == 3);
  CHECK(ab->variants[2].name.value == "control");
  CHECK(ab->variants[2].weight == 10);
  CHECK(ab->variants[2].next.value == "done");
  const ir::EmailNode* mail = flow.find_node("mail")->as<ir::EmailNode>();
  REQUIRE(mail);
  CHECK(mail->subject->source == "Your cart is waiting, {{user.first_name}}");
  CHECK(flow.find_node("done")->kind() == ir::NodeKind::kExit);
}

TEST_CASE("positions point at the token in the file") {
  ir::Flow flow = load_clean(dsl::test::kSpecCartReminder);
  CHECK(flow.trigger.event.span.line == 4);
  CHECK(flow.trigger.event.span.column == 10);
  CHECK(flow.trigger.event.span.length == 11);
  const ir::Node* pick = flow.find_node("pick");
  CHECK(pick->span.line == 18);
  CHECK(pick->span.column == 3);
  CHECK(pick->type_span.column == 11);
  const ir::Expression& match = *pick->as<ir::SegmentNode>()->match;
  CHECK(match.span.line == 20);
  CHECK(match.span.column == 12);
  // `user.interests` inside the expression: operands of `in` keep their place.
  const ir::Expr& tree = *match.tree;
  CHECK(tree.span.line == 20);
  // The placeholder inside the quoted subject: column of `user.first_name`.
  const ir::Template& subject = *flow.find_node("mail")->as<ir::EmailNode>()->subject;
  const ir::TemplatePart* placeholder = nullptr;
  for (const auto& part : subject.parts) {
    if (part.path) placeholder = &part;
  }
  REQUIRE(placeholder);
  CHECK(placeholder->path->span.line == 30);
  CHECK(placeholder->path->span.column == 39);
  CHECK(placeholder->path->span.length == 15);
}

TEST_CASE("positions inside double-quoted scalars with escapes and in block scalars") {
  dsl::LoadResult result = test::check_yaml(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a:
    type: email
    subject: "Say \"hi\" to {{user.bad path}}"
    body: |
      Line one
      and {{ oops }}
    next: e
  e: {type: exit}
)");
  REQUIRE(result.diagnostics.items().size() == 2);
  const auto& first = result.diagnostics.items()[0];
  CHECK(first.span.line == 7);
  CHECK(first.span.column == 40);  // `path`, after two escaped quotes
  const auto& second = result.diagnostics.items()[1];
  CHECK(second.span.line == 10);
  CHECK(second.span.column == 14);  // `oops`, inside the block scalar
}

TEST_CASE("keys of every form are read: re_entry after, until_event with where, generate") {
  ir::Flow flow = load_clean(R"(flow: t
trigger: {event: signup}
re_entry: after 30d
exit_on: unsubscribe
start: w
nodes:
  w:
    type: wait
    for: PT1H
    until_event: {event: page_view, where: event.path == "/pricing"}
    on_event: c
    next: c
  c: {type: coupon, generate: {prefix: WB-, length: 10}, next: e}
  e: {type: exit, description: The end.}
)");
  CHECK(flow.re_entry.policy == ir::ReEntryPolicy::kAfter);
  CHECK(flow.re_entry.after->seconds == 30 * 86400);
  CHECK(flow.re_entry.after->span.column == 17);
  REQUIRE(flow.exit_on.size() == 1);
  const ir::WaitNode* wait = flow.find_node("w")->as<ir::WaitNode>();
  CHECK(wait->wait_for->seconds == 3600);
  CHECK(wait->until_event->event.value == "page_view");
  CHECK(wait->until_event->where->tree.has_value());
  const ir::CouponNode* coupon = flow.find_node("c")->as<ir::CouponNode>();
  CHECK(coupon->generate->prefix == "WB-");
  CHECK(coupon->generate->length == 10);
  CHECK(flow.find_node("e")->description == "The end.");
}

TEST_CASE("comment lines above flow:, nodes and variants are kept for fmt") {
  ir::Flow flow = load_clean(R"(# Header of the file.

# About the flow.
flow: t
trigger: {event: signup}
start: s
nodes:
  # Split users.
  #   indented detail
  s:
    type: ab
    variants:
      # Half of them.
      a: {weight: 1, next: e}  # the variant's own: not a comment line above b
      b: {weight: 1, next: e}

  # Separated by a blank line: still directly above.
  e: {type: exit}
)");
  CHECK(flow.comments == ir::Comments{"Header of the file.", "About the flow."});
  CHECK(flow.find_node("s")->comments == ir::Comments{"Split users.", "  indented detail"});
  const ir::AbNode* ab = flow.find_node("s")->as<ir::AbNode>();
  CHECK(ab->variants[0].comments == ir::Comments{"Half of them."});
  CHECK(ab->variants[1].comments.empty());
  CHECK(ab->variants[0].trailing_comment == "the variant's own: not a comment line above b");
  CHECK(flow.find_node("e")->comments ==
        ir::Comments{"Separated by a blank line: still directly above."});
}

TEST_CASE("a comment ending a line belongs to the outermost key on that line") {
  ir::Flow flow = load_clean(R"(flow: t  # name
description: "quoted # not a comment"  # the description
trigger:  # opens the trigger
  event: signup  # the event
  when: 'event.name == "a # b"'  # the when
re_entry: never
exit_on: [a, b]  # ends it
start: w
nodes:  # the nodes
  w:
    type: wait  # the type line is the node's
    description: step#1 of 3
    for: 72h  # durable timer
    until_event:
      event: paid  # the event
      where: event.value > 1  # and where
    on_event: e
    next: s
  s:
    type: sms
    text: "Hi {{user.name | default: \"#1\"}}"  # the text
    next: b
  b:
    type: webhook
    url: https://x.example.com/#anchor  # a URL fragment is no comment
    body: |
      {"tag": "# kept in the body"}  # still the body
    next: m
  m: {type: sms, text: Don't stop, next: ab}  # the one-line node
  ab:
    type: ab
    variants:  # the node's too
      x: {weight: 1, next: e}  # first
      y:
        weight: 1  # its weight
        next: e  # its next
  e: {type: exit}
)");
  CHECK(flow.field_comments == ir::FieldComments{{"flow", "name"},
                                                 {"description", "the description"},
                                                 {"trigger", "opens the trigger # the event"},
                                                 {"trigger.when", "the when"},
                                                 {"exit_on", "ends it"},
                                                 {"nodes", "the nodes"}});
  CHECK(flow.description == "quoted # not a comment");
  CHECK(flow.find_node("w")->description == "step#1 of 3");  // no space before `#`: text
  CHECK(flow.trigger.when->source == "event.name == \"a # b\"");
  CHECK(flow.find_node("w")->field_comments ==
        ir::FieldComments{{"", "the type line is the node's"},
                          {"for", "durable timer"},
                          {"until_event", "the event # and where"}});
  CHECK(flow.find_node("s")->field_comments == ir::FieldComments{{"text", "the text"}});
  const ir::Node* webhook = flow.find_node("b");
  CHECK(webhook->field_comments == ir::FieldComments{{"url", "a URL fragment is no comment"}});
  CHECK(webhook->as<ir::WebhookNode>()->body->source ==
        "{\"tag\": \"# kept in the body\"}  # still the body\n");
  CHECK(flow.find_node("m")->field_comments == ir::FieldComments{{"", "the one-line node"}});
  CHECK(flow.find_node("m")->as<ir::SmsNode>()->text->source == "Don't stop");
  const ir::Node* ab = flow.find_node("ab");
  CHECK(ab->field_comments == ir::FieldComments{{"", "the node's too"}});
  CHECK(ab->as<ir::AbNode>()->variants[0].trailing_comment == "first");
  CHECK(ab->as<ir::AbNode>()->variants[1].trailing_comment == "its weight # its next");
}

TEST_CASE("the seed flows keep their comments") {
  ir::Flow flow = load_clean(read_text(source_path("flows/personalization.yaml")));
  CHECK(flow.comments.size() == 3);
  CHECK(flow.find_node("settle")->comments ==
        ir::Comments{"Give the learner a day to finish browsing before we say anything."});
  ir::Flow cart = load_clean(read_text(source_path("flows/cart_reminder.yaml")));
  CHECK(cart.field_comments.at("exit_on") == "these events end the journey wherever it is");
  CHECK(cart.find_node("wait_pay")->field_comments.at("for") == "durable timer");
  CHECK(cart.find_node("nudge")->as<ir::AbNode>()->variants[2].trailing_comment ==
        "holdout: no message");
}

TEST_CASE("hostile input gives diagnostics, never an exception") {
  std::vector<std::string> inputs = {
      std::string(5000, '['),
      std::string(5000, '{'),
      "flow: &a [*a]\n",
      "\xff\xfe\x00\x01garbage",
      "flow: t\nnodes:\n  a: !!binary 'zz'\n",
      "? [a, b]\n: c\n",
      "nodes: {a: {type: sms, text: *x}}\n",
      "flow: t\ntrigger: {event: e}\nstart: a\nnodes:\n  a: {type: ab, variants: [1, 2]}\n",
      "flow: t\ntrigger: {event: e}\nstart: a\nnodes:\n  a: {type: ab, variants: {x: {weight: "
      "1e400, next: a}}}\n",
      "flow: t\ntrigger: {event: e}\nstart: a\nnodes:\n  ? {a: 1}\n  : {type: exit}\n",
  };
  for (const std::string& input : inputs) {
    INFO(input.substr(0, 40));
    dsl::LoadResult result;
    REQUIRE_NOTHROW(result = test::check_yaml(input));
    CHECK(result.diagnostics.has_errors());
  }
}

TEST_CASE("load_flow_file picks the front end by extension") {
  dsl::LoadResult missing = dsl::load_flow_file("/nonexistent/flow.yaml");
  CHECK_FALSE(missing.readable);
  dsl::LoadResult other = dsl::load_flow_file(source_path("README.md"));
  CHECK_FALSE(other.readable);
  CHECK(dsl::syntax_for_path("a/b.yml") == dsl::FlowSyntax::kYaml);
  CHECK(dsl::syntax_for_path("a/b.flow") == dsl::FlowSyntax::kDsl);
  dsl::LoadResult seed = dsl::check_flow_file(source_path("flows/b2b_lead.yaml"));
  CHECK(seed.readable);
  CHECK(seed.ok());
  CHECK(seed.flow->file == source_path("flows/b2b_lead.yaml"));
}
