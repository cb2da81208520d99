// Flows used by the formatter, JSON and round-trip tests: the documented cart
// reminder, plus every shape docs/flows.md allows that the cart reminder lacks.
#pragma once

#include <nlohmann/json.hpp>

namespace trellis::dsl::test {

inline nlohmann::json cart_reminder_json() {
  return nlohmann::json::parse(R"json({
  "flow": "cart_reminder",
  "description": "Nudge shoppers who leave a cart unpaid for 72 hours.",
  "comments": ["The seeds' 72-hour cart reminder."],
  "field_comments": {"trigger": "event type that starts a journey",
                     "trigger.when": "optional expression",
                     "exit_on": "these events end the journey wherever it is",
                     "nodes": "in file order"},
  "trigger": {"event": "add_to_cart", "when": "event.value >= 20", "key": "event.cart_id"},
  "re_entry": "never",
  "exit_on": ["order_paid", "unsubscribe"],
  "goal": "order_paid",
  "start": "wait_pay",
  "nodes": [
    {"id": "wait_pay", "type": "wait", "comments": ["durable timer"], "description": "",
     "field_comments": {"": "first stop", "for": "72 hours, then pick"},
     "for": "72h", "until_event": "order_paid", "on_event": "done", "next": "pick"},
    {"id": "pick", "type": "segment", "comments": [], "description": "",
     "match": "user.age > 30 and \"education\" in user.interests and not user.paid",
     "yes": "give_coupon", "no": "nudge"},
    {"id": "give_coupon", "type": "coupon", "comments": [], "description": "",
     "pool": "SPRING20", "next": "mail", "on_exhausted": "nudge"},
    {"id": "mail", "type": "email", "comments": [], "description": "",
     "subject": "Your cart is waiting, {{user.first_name}}",
     "body": "Use {{coupon.code}} for 20% off.", "next": "done"},
    {"id": "nudge", "type": "ab", "comments": [], "description": "", "variants": [
      {"name": "a", "weight": 45, "next": "sms_a"},
      {"name": "b", "weight": 45, "next": "sms_b"},
      {"name": "control", "weight": 10, "next": "done", "comments": ["holdout: no message"],
       "trailing_comment": "a # in a comment, \"quotes\" too"}]},
    {"id": "sms_a", "type": "sms", "comments": [], "description": "",
     "text": "Your cart misses you!", "next": "done"},
    {"id": "sms_b", "type": "sms", "comments": [], "description": "",
     "text": "Items in your cart are selling fast.", "next": "done"},
    {"id": "done", "type": "exit", "comments": [], "description": ""}
  ]
})json");
}

// Shapes the cart reminder lacks: until_event with `where`, generated coupons,
// webhooks, re_entry after, descriptions on nodes, strings that need quoting.
inline nlohmann::json shapes_json() {
  return nlohmann::json::parse(R"json({
  "flow": "shapes",
  "description": "Every shape: quotes \"inside\", a colon: here, # not a comment",
  "comments": [],
  "trigger": {"event": "form_submit"},
  "re_entry": "after 7d",
  "exit_on": ["unsubscribe"],
  "category": "transactional",
  "priority": "80",
  "on_cap": "skip",
  "start": "w2",
  "nodes": [
    {"id": "w2", "type": "wait", "comments": [], "description": "Waits for the cart page.",
     "field_comments": {"until_event": "event and where", "description": "why it waits"},
     "until_event": {"event": "page_view", "where": "event.path == \"/cart\""}, "on_event": "gen"},
    {"id": "gen", "type": "coupon", "comments": ["a code made on the spot", ""], "description": "",
     "generate": {"prefix": "WB-", "length": 8}, "next": "crm",
     "field_comments": {"generate": "never runs out", "next": "then the CRM"}},
    {"id": "crm", "type": "webhook", "comments": [], "description": "",
     "url": "https://crm.example.com/leads",
     "body": "{\"email\": \"{{user.email}}\",\n \"code\": \"{{coupon.code}}\"}", "next": "ask"},
    {"id": "ask", "type": "segment", "comments": [], "description": "",
     "match": "[1, 2] == [1, 2] or has(user.email)", "yes": "morning", "no": "end"},
    {"id": "morning", "type": "wait", "comments": [], "description": "",
     "until_time": "9:30", "on_days": ["mon", "fri"], "next": "later",
     "field_comments": {"on_days": "weekdays only"}},
    {"id": "later", "type": "wait", "comments": [], "description": "",
     "for": "PT36H", "next": "end"},
    {"id": "end", "type": "exit", "comments": [], "description": "The end: nothing more."}
  ]
})json");
}

}  // namespace trellis::dsl::test
