// The cart reminder exactly as it was first specified (aligned comments, one-line
// nodes, quoted templates): flows/cart_reminder.yaml holds it in canonical form,
// so tests of positions and of the loader's reading of that layout use this copy.
#pragma once

namespace trellis::dsl::test {

inline const char* const kSpecCartReminder = R"yaml(flow: cart_reminder
description: Nudge shoppers who leave a cart unpaid for 72 hours.
trigger:
  event: add_to_cart                  # event type that starts a journey
  when: event.value >= 20             # optional expression
  key: event.cart_id                  # optional: one journey per cart, not per user
re_entry: never                       # never | always | after <duration>
exit_on: [order_paid, unsubscribe]    # these events end the journey wherever it is
goal: order_paid                      # optional: reaching it counts as a conversion
start: wait_pay
nodes:
  wait_pay:
    type: wait
    for: 72h                          # durable timer
    until_event: order_paid           # optional: wake early when this event arrives
    on_event: done
    next: pick
  pick:
    type: segment
    match: user.age > 30 and "education" in user.interests and not user.paid
    yes: give_coupon
    no: nudge
  give_coupon:
    type: coupon
    pool: SPRING20                    # codes loaded beforehand, or `generate:`
    next: mail
    on_exhausted: nudge
  mail:
    type: email
    subject: "Your cart is waiting, {{user.first_name}}"
    body: "Use {{coupon.code}} for 20% off."
    next: done
  nudge:
    type: ab
    variants:
      a: { weight: 45, next: sms_a }
      b: { weight: 45, next: sms_b }
      control: { weight: 10, next: done }   # holdout: no message
  sms_a: { type: sms, text: "Your cart misses you!", next: done }
  sms_b: { type: sms, text: "Items in your cart are selling fast.", next: done }
  done: { type: exit }
)yaml";

}  // namespace trellis::dsl::test
