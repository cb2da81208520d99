import type { Flow } from '../src/model/ir';

// The seeds' 72-hour cart reminder (docs/flows.md) as IR JSON.
export function cartReminder(): Flow {
  return {
    flow: 'cart_reminder',
    description: 'Nudge shoppers who leave a cart unpaid for 72 hours.',
    trigger: { event: 'add_to_cart', when: 'event.value >= 20', key: 'event.cart_id' },
    re_entry: 'never',
    exit_on: ['order_paid', 'unsubscribe'],
    goal: 'order_paid',
    start: 'wait_pay',
    nodes: [
      { id: 'wait_pay', type: 'wait', for: '72h', until_event: 'order_paid', on_event: 'done', next: 'pick' },
      {
        id: 'pick',
        type: 'segment',
        match: 'user.age > 30 and "education" in user.interests and not user.paid',
        yes: 'give_coupon',
        no: 'nudge',
      },
      { id: 'give_coupon', type: 'coupon', pool: 'SPRING20', next: 'mail', on_exhausted: 'nudge' },
      {
        id: 'mail',
        type: 'email',
        subject: 'Your cart is waiting, {{user.first_name}}',
        body: 'Use {{coupon.code}} for 20% off.',
        next: 'done',
      },
      {
        id: 'nudge',
        type: 'ab',
        comments: ['holdout: no message'],
        variants: [
          { name: 'a', weight: 45, next: 'sms_a' },
          { name: 'b', weight: 45, next: 'sms_b' },
          { name: 'control', weight: 10, next: 'done' },
        ],
      },
      { id: 'sms_a', type: 'sms', text: 'Your cart misses you!', next: 'done' },
      { id: 'sms_b', type: 'sms', text: 'Items in your cart are selling fast.', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}

// flows/order_followup.yaml as IR JSON: delivery settings and a local-time wait.
export function orderFollowup(): Flow {
  return {
    flow: 'order_followup',
    trigger: { event: 'order_paid' },
    re_entry: 'always',
    category: 'transactional',
    priority: 'high',
    on_cap: 'skip',
    start: 'next_weekday_morning',
    nodes: [
      {
        id: 'next_weekday_morning',
        type: 'wait',
        until_time: '10:00',
        on_days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        field_comments: { until_time: "in user.timezone, else the server's default zone" },
        next: 'followup',
      },
      { id: 'followup', type: 'email', subject: 'Your order {{event.order_id}} is being packed', body: 'Hi', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}
