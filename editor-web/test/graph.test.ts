import { describe, expect, it } from 'vitest';
import {
  addNode,
  connect,
  disconnect,
  flowToGraph,
  graphToFlow,
  removeNodes,
  renameNode,
  slotsOf,
} from '../src/model/graph';
import { freshId, emptyFlow, cleanFlow } from '../src/model/ir';
import { kinds, newNode } from '../src/model/kinds';
import { cartReminder } from './fixtures';

describe('IR ⇄ canvas graph', () => {
  it('round-trips the cart reminder unchanged', () => {
    const flow = cartReminder();
    const graph = flowToGraph(flow, {});
    expect(graphToFlow(flow, graph)).toEqual(flow);
  });

  it('draws one arrow per set slot, with handles named after the slot', () => {
    const graph = flowToGraph(cartReminder(), {});
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'wait_pay', 'pick', 'give_coupon', 'mail', 'nudge', 'sms_a', 'sms_b', 'done',
    ]);
    expect(graph.edges).toHaveLength(2 + 2 + 2 + 1 + 3 + 1 + 1);
    expect(graph.edges.find((e) => e.source === 'nudge' && e.sourceHandle === 'variant:control')?.target).toBe('done');
    expect(graph.nodes.find((n) => n.id === 'wait_pay')?.data.start).toBe(true);
  });

  it('takes targets from the arrows when going back to IR', () => {
    const flow = cartReminder();
    const graph = flowToGraph(flow, {});
    // Re-point pick.no from nudge to done and drop the sms_a arrow.
    graph.edges = graph.edges
      .filter((e) => e.source !== 'sms_a')
      .map((e) => (e.source === 'pick' && e.sourceHandle === 'no' ? { ...e, target: 'done' } : e));
    const back = graphToFlow(flow, graph);
    expect(back.nodes.find((n) => n.id === 'pick')?.no).toBe('done');
    expect(back.nodes.find((n) => n.id === 'sms_a')).not.toHaveProperty('next');
  });

  it('keeps a target naming no node, so the checker can report it, but draws no arrow', () => {
    const flow = cartReminder();
    flow.nodes[5].next = 'nowhere';
    const graph = flowToGraph(flow, {});
    expect(graph.edges.some((e) => e.source === 'sms_a')).toBe(false);
    expect(graphToFlow(flow, graph).nodes[5].next).toBe('nowhere');
  });

});

describe('edge labels', () => {
  const labels = (id: string) =>
    slotsOf(cartReminder().nodes.find((n) => n.id === id)!).map((s) => s.label);

  it('names each slot by its meaning', () => {
    expect(labels('pick')).toEqual(['yes', 'no']);
    expect(labels('wait_pay')).toEqual(['timeout 72h', 'on order_paid']);
    expect(labels('give_coupon')).toEqual(['next', 'exhausted']);
    expect(labels('mail')).toEqual(['next']);
    expect(labels('done')).toEqual([]);
  });

  it('gives variants their name and share of the total weight', () => {
    expect(labels('nudge')).toEqual(['a · 45%', 'b · 45%', 'control · 10%']);
    const node = { id: 'x', type: 'ab' as const, variants: [{ name: 'a', weight: 1 }, { name: 'b', weight: 2 }] };
    expect(slotsOf(node).map((s) => s.label)).toEqual(['a · 33.3%', 'b · 66.7%']);
    expect(slotsOf(node).map((s) => s.field)).toEqual(['variants.a.next', 'variants.b.next']);
  });

  it('shows a wait without a timer as waiting for its event only', () => {
    const node = { id: 'w', type: 'wait' as const, until_event: { event: 'page_view', where: 'true' }, on_event: 'x' };
    expect(slotsOf(node).map((s) => [s.handle, s.label])).toEqual([['on_event', 'on page_view']]);
  });
});

describe('edits', () => {
  it('builds a flow node by node and connects the slots', () => {
    let flow = emptyFlow('f');
    for (const { type } of kinds()) flow = addNode(flow, newNode(type, freshId(flow, type)));
    expect(flow.start).toBe('segment_1');
    flow = connect(flow, 'segment_1', 'yes', 'sms_1');
    flow = connect(flow, 'ab_1', 'variant:b', 'exit_1');
    expect(flow.nodes[0].yes).toBe('sms_1');
    expect(flow.nodes.find((n) => n.id === 'ab_1')?.variants?.[1].next).toBe('exit_1');
    flow = disconnect(flow, 'segment_1', 'yes');
    expect(flow.nodes[0]).not.toHaveProperty('yes');
  });

  it('removing a node clears the slots that pointed at it and the start', () => {
    const flow = removeNodes(cartReminder(), ['done', 'wait_pay']);
    expect(flow.start).toBeUndefined();
    expect(flow.nodes.find((n) => n.id === 'mail')).not.toHaveProperty('next');
    expect(flow.nodes.find((n) => n.id === 'nudge')?.variants?.[2]).toEqual({ name: 'control', weight: 10 });
  });

  it('renaming a node renames every reference', () => {
    const flow = renameNode(cartReminder(), 'done', 'finish');
    expect(flow.nodes.filter((n) => n.next === 'finish').map((n) => n.id)).toEqual(['mail', 'sms_a', 'sms_b']);
    expect(flow.nodes.find((n) => n.id === 'wait_pay')?.on_event).toBe('finish');
    expect(renameNode(flow, 'pick', 'mail')).toBe(flow); // taken: no change
  });

  it('sends only what the user set', () => {
    const flow = cleanFlow({ ...emptyFlow('f'), description: '', trigger: { event: 'e', when: '' }, exit_on: [] });
    expect(flow).toEqual({ flow: 'f', trigger: { event: 'e' }, re_entry: 'never', nodes: [] });
  });
});
