import { describe, expect, it } from 'vitest';
import { describeChanges } from '../src/model/diff';
import { addNode, connect, removeNodes, updateNode } from '../src/model/graph';
import { newNode } from '../src/model/kinds';
import { cartReminder } from './fixtures';

describe('deploy diff in words', () => {
  it('says nothing changed for the same flow', () => {
    expect(describeChanges(cartReminder(), cartReminder())).toEqual([]);
  });

  it('names steps added and removed, and each changed field with old and new value', () => {
    let next = updateNode(cartReminder(), 'mail', (n) => ({ ...n, subject: 'Still thinking it over?' }));
    next = updateNode(next, 'wait_pay', (n) => ({ ...n, for: '48h' }));
    next = removeNodes(next, ['sms_b']);
    next = addNode(next, { ...newNode('webhook', 'crm'), url: 'https://crm.example.com/hook' });
    next = connect(next, 'crm', 'next', 'done');
    next = updateNode(next, 'nudge', (n) => ({
      ...n,
      variants: (n.variants ?? []).map((v) => (v.name === 'control' ? { ...v, weight: 20 } : v)).filter((v) => v.name !== 'b'),
    }));
    next = { ...next, goal: 'order_completed' };
    const texts = describeChanges(cartReminder(), next).map((c) => c.text);
    expect(texts).toContain('flow: goal "order_paid" → "order_completed"');
    expect(texts).toContain('added Webhook crm');
    expect(texts).toContain('removed SMS sms_b');
    expect(texts).toContain('mail: subject "Your cart is waiting, {{user.first_name}}" → "Still thinking it over?"');
    expect(texts).toContain('wait_pay: wait time "72h" → "48h"');
    expect(texts).toContain('nudge: variant control weight 10 → 20');
    expect(texts).toContain('nudge: variant b removed');
    expect(texts).toHaveLength(7);
  });

  it('says a first deploy is the first version', () => {
    expect(describeChanges(null, cartReminder())).toEqual([{ kind: 'added', text: 'first version, 8 steps' }]);
  });

  it('sees an edited comment, not a reordered variant', () => {
    const flow = cartReminder();
    const reordered = updateNode(flow, 'nudge', (n) => ({ ...n, variants: [...(n.variants ?? [])].reverse() }));
    expect(describeChanges(flow, reordered)).toEqual([]);
    const commented = updateNode(flow, 'nudge', (n) => ({ ...n, comments: ['holdout: nothing at all'] }));
    expect(describeChanges(flow, commented).map((c) => c.text)).toEqual(['nudge: comments edited']);
  });

  it('reads a goal given a window as a change of its window only', () => {
    const flow = { ...cartReminder(), goal: 'order_paid' };
    const windowed = { ...flow, goal: { event: 'order_paid', within: '7d' } };
    expect(describeChanges(flow, windowed).map((c) => c.text)).toEqual(['flow: goal window nothing → "7d"']);
  });
});
