import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW, listFlows, nameProblem } from '../src/model/flowList';
import type { FlowSummary } from '../src/model/responses';

const flows: FlowSummary[] = [
  { name: 'welcome_series', version: 2, state: 'deployed', entered: 40, active: 3, conversions: 9 },
  { name: 'cart_reminder', version: 1, state: 'modified', entered: 120, active: 30, conversions: 12 },
  { name: 'scratch', state: 'draft' },
  { name: 'ab_sms_test', version: 1, state: 'deployed', entered: 5, active: 0, conversions: 0 },
];

describe('flow list view', () => {
  it('sorts by name by default', () => {
    expect(listFlows(flows, DEFAULT_VIEW).map((f) => f.name)).toEqual(['ab_sms_test', 'cart_reminder', 'scratch', 'welcome_series']);
  });
  it('searches words in the name, any case, _ as a space', () => {
    expect(listFlows(flows, { ...DEFAULT_VIEW, query: 'Cart' }).map((f) => f.name)).toEqual(['cart_reminder']);
    expect(listFlows(flows, { ...DEFAULT_VIEW, query: 'sms ab' }).map((f) => f.name)).toEqual(['ab_sms_test']);
    expect(listFlows(flows, { ...DEFAULT_VIEW, query: 'welcome_ser' }).map((f) => f.name)).toEqual(['welcome_series']);
    expect(listFlows(flows, { ...DEFAULT_VIEW, query: 'zzz' })).toEqual([]);
  });
  it('filters by state and sorts numbers largest first, flows without numbers last', () => {
    expect(listFlows(flows, { ...DEFAULT_VIEW, state: 'deployed' }).map((f) => f.name)).toEqual(['ab_sms_test', 'welcome_series']);
    expect(listFlows(flows, { ...DEFAULT_VIEW, sort: 'entered' }).map((f) => f.name)).toEqual([
      'cart_reminder', 'welcome_series', 'ab_sms_test', 'scratch',
    ]);
    expect(listFlows(flows, { ...DEFAULT_VIEW, sort: 'active' }).map((f) => f.name)[0]).toBe('cart_reminder');
  });
  it('refuses names in use, the configuration name and bad spellings', () => {
    expect(nameProblem('cart_reminder_b', flows)).toBeNull();
    expect(nameProblem('cart_reminder', flows)).toMatch(/exists/);
    expect(nameProblem('trellis', flows)).toMatch(/delivery configuration/);
    expect(nameProblem('Cart', flows)).toMatch(/lower-case/);
  });
});
