import { describe, expect, it } from 'vitest';
import { flowToGraph, graphToFlow, slotsOf } from '../src/model/graph';
import {
  cleanFlow,
  cleanNode,
  goalFrom,
  goalParts,
  priorityChoice,
  priorityFromChoice,
  toggleWeekday,
  weekdaysText,
  type Flow,
} from '../src/model/ir';
import { orderFollowup } from './fixtures';

describe('governed delivery in the IR model', () => {
  it('carries the flow settings and a local-time wait through JSON and the canvas unchanged', () => {
    const flow = orderFollowup();
    const json = JSON.parse(JSON.stringify(cleanFlow(flow))) as Flow;
    expect(json).toEqual(flow);
    expect(graphToFlow(flow, flowToGraph(flow, {}))).toEqual(flow);
  });

  it('drops unset settings and an empty weekday set before sending', () => {
    const flow: Flow = { ...orderFollowup(), category: '', priority: undefined, on_cap: '' };
    const out = cleanFlow(flow);
    expect(out).not.toHaveProperty('category');
    expect(out).not.toHaveProperty('priority');
    expect(out).not.toHaveProperty('on_cap');
    const wait = cleanNode({ id: 'w', type: 'wait', until_time: '10:00', on_days: [] });
    expect(wait).toEqual({ id: 'w', type: 'wait', until_time: '10:00' });
  });

  it('labels the timer arrow of a local-time wait with its time', () => {
    const slots = slotsOf(orderFollowup().nodes[0]);
    expect(slots.map((s) => [s.field, s.label])).toEqual([['next', 'at 10:00']]);
  });

  it('toggles weekdays in week order; none left means every day', () => {
    expect(toggleWeekday(undefined, 'fri')).toEqual(['fri']);
    expect(toggleWeekday(['fri'], 'mon')).toEqual(['mon', 'fri']);
    expect(toggleWeekday(['mon', 'fri'], 'mon')).toEqual(['fri']);
    expect(toggleWeekday(['fri'], 'fri')).toBeUndefined();
    expect(weekdaysText(['mon', 'tue', 'wed', 'thu', 'fri'])).toBe('mon–fri');
    expect(weekdaysText(['sat', 'sun'])).toBe('sat, sun');
    expect(weekdaysText(undefined)).toBe('every day');
  });

  it('reads a priority as a level, a number or the default, and writes it back', () => {
    expect(priorityChoice(undefined)).toEqual({ kind: 'default' });
    expect(priorityChoice('high')).toEqual({ kind: 'high' });
    expect(priorityChoice(80)).toEqual({ kind: 'number', value: '80' });
    expect(priorityChoice('35')).toEqual({ kind: 'number', value: '35' });
    expect(priorityFromChoice({ kind: 'low' })).toBe('low');
    expect(priorityFromChoice({ kind: 'number', value: '35' })).toBe('35');
    expect(priorityFromChoice({ kind: 'default' })).toBeUndefined();
  });
});

describe('the goal', () => {
  it('reads both forms and writes the plain one when only the event is set', () => {
    expect(goalParts('order_paid')).toEqual({ event: 'order_paid' });
    expect(goalParts({ event: 'order_paid', within: '7d' })).toEqual({ event: 'order_paid', within: '7d' });
    expect(goalParts(undefined)).toEqual({ event: '' });
    expect(goalFrom({ event: 'order_paid', within: ' ', where: '' })).toBe('order_paid');
    expect(goalFrom({ event: 'order_paid', within: '7d ', value: 'event.revenue' })).toEqual({ event: 'order_paid', within: '7d', value: 'event.revenue' });
    expect(goalFrom({ event: '' })).toBeUndefined();
    const f = { flow: 'f', trigger: { event: 'x' }, nodes: [], goal: { event: 'order_paid', where: '', within: '', value: '' } } as Flow;
    expect(cleanFlow(f).goal).toBe('order_paid');
  });
});
