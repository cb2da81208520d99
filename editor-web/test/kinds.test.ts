import { afterEach, describe, expect, it } from 'vitest';
import { flowToGraph, setSlot, slotsOf } from '../src/model/graph';
import { kindLabel, kinds, newNode, setKinds, shownFields, targetFields, type KindSchema } from '../src/model/kinds';
import served from './kinds.json';

// A kind the editor has no code for, as the server would add one to its table.
const notify: KindSchema = {
  type: 'notify',
  label: 'Notify',
  help: 'Tell someone.',
  fields: [
    { name: 'to', widget: 'template', required: true, initial: 'ops@example.com' },
    { name: 'levels', widget: 'weights', initial: [{ name: 'a', weight: 1 }] },
    { name: 'next', widget: 'target', required: true },
    { name: 'on_error', widget: 'target' },
  ],
};

afterEach(() => setKinds(served as KindSchema[]));

describe('node kinds from the server table', () => {
  it('lists the served kinds in table order with their labels', () => {
    expect(kinds().map((k) => k.type)).toEqual(['segment', 'wait', 'coupon', 'sms', 'email', 'webhook', 'ab', 'exit', 'update_profile', 'split']);
    expect(kindLabel('ab')).toBe('A/B split');
    expect(kindLabel('unknown_kind')).toBe('unknown_kind');
  });

  it('starts new nodes with the table starting values', () => {
    expect(newNode('wait', 'w')).toEqual({ id: 'w', type: 'wait', for: '1d' });
    const ab = newNode('ab', 'x');
    expect(ab.variants).toEqual([
      { name: 'a', weight: 50 },
      { name: 'b', weight: 50 },
    ]);
    // Each node gets its own copy: editing one variant list leaves the table alone.
    ab.variants![0].weight = 1;
    expect(newNode('ab', 'y').variants![0].weight).toBe(50);
  });

  it('handles a kind added on the server without editor code', () => {
    setKinds([...(served as KindSchema[]), notify]);
    expect(kindLabel('notify')).toBe('Notify');
    expect(newNode('notify', 'n')).toEqual({ id: 'n', type: 'notify', to: 'ops@example.com', levels: [{ name: 'a', weight: 1 }] });
    expect(targetFields('notify')).toEqual(['next', 'on_error']);
    expect(shownFields('notify')).toEqual(['id', 'description', 'to', 'levels', 'next', 'on_error']);
    const slots = slotsOf({ id: 'n', type: 'notify', next: 'done' });
    expect(slots.map((s) => [s.handle, s.target])).toEqual([
      ['next', 'done'],
      ['on_error', undefined],
    ]);
  });

  it('draws one labelled arrow per branch of a branches field, then the targets', () => {
    const route: KindSchema = {
      type: 'route',
      fields: [
        { name: 'branches', widget: 'branches', required: true },
        { name: 'default', widget: 'target', required: true },
      ],
    };
    setKinds([...(served as KindSchema[]), route]);
    const node = {
      id: 'r',
      type: 'route',
      branches: [{ when: 'user.orders >= 5', next: 'vip' }, { when: 'event.total > 100', next: 'big' }, { when: '' }],
      default: 'plain',
    };
    expect(slotsOf(node).map((s) => [s.handle, s.label, s.target, s.field])).toEqual([
      ['branches.0', 'user.orders >= 5', 'vip', 'branches.0.next'],
      ['branches.1', 'event.total > 100', 'big', 'branches.1.next'],
      ['branches.2', 'branch 3', undefined, 'branches.2.next'],
      ['default', 'default', 'plain', 'default'],
    ]);
    const ids = ['r', 'vip', 'big', 'plain'];
    const graph = flowToGraph({ flow: 'f', start: 'r', nodes: [node, ...ids.slice(1).map((id) => ({ id, type: 'exit' }))] } as never, {});
    expect(graph.edges.map((e) => [e.sourceHandle, e.target, e.label])).toEqual([
      ['branches.0', 'vip', 'user.orders >= 5'],
      ['branches.1', 'big', 'event.total > 100'],
      ['default', 'plain', 'default'],
    ]);
    // Connecting a branch's handle sets that branch's next only.
    expect(setSlot(node, 'branches.2', 'plain').branches).toEqual([
      { when: 'user.orders >= 5', next: 'vip' },
      { when: 'event.total > 100', next: 'big' },
      { when: '', next: 'plain' },
    ]);
  });

  it('gives the served split and update_profile kinds their arrows and fields', () => {
    const split = {
      id: 'pick',
      type: 'split',
      branches: [{ when: 'user.orders >= 5', next: 'vip' }, { when: 'event.total > 100', next: 'big' }],
      default: 'plain',
    };
    expect(slotsOf(split).map((s) => [s.handle, s.label, s.target])).toEqual([
      ['branches.0', 'user.orders >= 5', 'vip'],
      ['branches.1', 'event.total > 100', 'big'],
      ['default', 'default', 'plain'],
    ]);
    expect(shownFields('split')).toEqual(['id', 'description', 'branches', 'default']);
    expect(slotsOf({ id: 'count', type: 'update_profile', increment: { orders: '1' }, next: 'done' }).map((s) => [s.handle, s.target])).toEqual([
      ['next', 'done'],
    ]);
    expect(kindLabel('update_profile')).toBe('Update profile');
  });
});
