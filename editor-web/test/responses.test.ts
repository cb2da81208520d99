import { describe, expect, it } from 'vitest';
import { flowSummariesFromJson, simRequestBody, simResultFromJson, statsFromJson, SIM_USER } from '../src/model/responses';
import { cartReminder } from './fixtures';

describe('live counts from GET /v1/flows/{name}/stats', () => {
  it('keys node counts by node and variant counts by node and variant', () => {
    const stats = statsFromJson({
      flow: 'cart_reminder', version: 2, journeys: 5, live: 3, conversions: 1,
      nodes: [
        { node: 'wait_pay', entered: 5, waiting: 3, exited: 2 },
        { node: 'done', entered: 1, waiting: 0, exited: 1 },
      ],
      variants: [{ node: 'nudge', variant: 'a', journeys: 4, conversions: 1 }],
    });
    expect(stats.version).toBe(2);
    expect([stats.journeys, stats.live, stats.conversions]).toEqual([5, 3, 1]);
    expect(stats.nodes.wait_pay).toEqual({ entered: 5, waiting: 3, exited: 2 });
    expect(stats.variants.nudge.a).toEqual({ entered: 4, conversions: 1 });
  });
  it('reads a missing or odd answer as zeros', () => {
    expect(statsFromJson(null)).toEqual({ version: undefined, journeys: 0, live: 0, conversions: 0, nodes: {}, variants: {} });
    expect(statsFromJson({ nodes: [{ node: 'x', entered: 'many' }] }).nodes.x.entered).toBe(0);
  });
});

describe('POST /v1/simulate', () => {
  it('sends one sample user and events in the scenario form', () => {
    const body = simRequestBody(cartReminder(), { age: 34 }, [{ at: '0s', type: 'add_to_cart', properties: { value: 59, type: 'spoofed' } }], { SPRING20: ['C-001'] });
    expect(body.users).toEqual({ [SIM_USER]: { age: 34 } });
    expect(body.events).toEqual([{ at: '0s', type: 'add_to_cart', user: SIM_USER, value: 59 }]);
    expect(body.coupons).toEqual({ SPRING20: ['C-001'] });
    expect(body).not.toHaveProperty('consent'); // older servers know no consent
  });

  it('sends the sample user’s withdrawn consent per channel', () => {
    const body = simRequestBody(cartReminder(), {}, [], {}, ['email', 'sms']);
    expect(body.consent).toEqual({ [SIM_USER]: { email: false, sms: false } });
  });

  it('turns the journey steps into the path taken and lists the deliveries', () => {
    const result = simResultFromJson({
      journeys: [{
        state: 'completed',
        steps: [
          { node: 'wait_pay', offset: '0s', reason: 'waiting 72h' },
          { node: 'wait_pay', offset: '72h', reason: 'timer fired' },
          { node: 'pick', offset: '72h', reason: 'match was true' },
          { node: 'give_coupon', offset: '72h', reason: '' },
          { node: 'mail', offset: '72h' },
          { node: 'done', offset: '72h' },
        ],
      }],
      deliveries: [
        { channel: 'coupon', node: 'give_coupon', offset: '72h', to: 'u', body: 'C-001' },
        { channel: 'email', node: 'mail', offset: '72h', to: 'ana@example.com', subject: 'Hi Ana', body: 'Use C-001' },
      ],
      diagnostics: [{ severity: 'warning', message: 'w' }],
    });
    expect(result.path).toEqual(['wait_pay', 'pick', 'give_coupon', 'mail', 'done']);
    expect(result.steps).toHaveLength(6);
    expect(result.steps[3].reason).toBeUndefined();
    expect(result.deliveries.map((d) => [d.channel, d.at, d.subject])).toEqual([
      ['coupon', '72h', undefined],
      ['email', '72h', 'Hi Ana'],
    ]);
    expect(result.state).toBe('completed');
    expect(result.diagnostics).toHaveLength(1);
  });
});

describe('the flow list from GET /v1/flows', () => {
  it('names each flow state and keeps its headline numbers', () => {
    const flows = flowSummariesFromJson({
      flows: [
        { name: 'a', version: 0, draft: true, file: 'flows/a.yaml' },
        { name: 'b', version: 3, draft: false, journeys: 10, live: 4, conversions: 2 },
        { name: 'c', version: 1, draft: true },
      ],
    });
    expect(flows.map((f) => [f.name, f.version, f.state])).toEqual([
      ['a', undefined, 'draft'],
      ['b', 3, 'deployed'],
      ['c', 1, 'modified'],
    ]);
    expect([flows[1].entered, flows[1].active, flows[1].conversions]).toEqual([10, 4, 2]);
    expect(flows[2].entered).toBeUndefined(); // to be read from the flow's stats
  });
});
