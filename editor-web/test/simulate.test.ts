import { describe, expect, it } from 'vitest';
import { emptyPathReason, sampleFromTrigger, simErrorPlace, simErrorText } from '../src/model/simulate';
import type { Flow } from '../src/model/ir';

const flow = (trigger: Flow['trigger']): Flow => ({ flow: 'f', trigger, re_entry: 'never', nodes: [] }) as Flow;

describe('simulation errors', () => {
  it("places the server's detail on the row it names, counting only rows sent", () => {
    // Row 0 had no type and was not sent: the server's event 1 is the table's row 2.
    const rows = [1, 2];
    expect(simErrorPlace("event 1: unknown duration unit ' days'", rows)).toEqual({ row: 2, cell: 'at' });
    expect(simErrorPlace('event 0: `type` is required', rows)).toEqual({ row: 1, cell: 'type' });
    expect(simErrorPlace('`events` is an array', rows)).toEqual({});
    expect(simErrorText('invalid_simulation', "event 1: unknown duration unit ' days'", rows)).toBe(
      "Event 3: unknown duration unit ' days'",
    );
    expect(simErrorText('invalid_simulation', undefined, rows)).toBe('The simulation input is not valid.');
  });
});

describe('the sample read off the trigger', () => {
  it('satisfies simple comparisons and reads the key', () => {
    expect(sampleFromTrigger(flow({ event: 'add_to_cart', when: 'event.value >= 20', key: 'event.cart_id' }))).toEqual({
      event: { value: 20, cart_id: 'sample-1' },
      user: {},
    });
    expect(sampleFromTrigger(flow({ event: 'x', when: 'event.price > 30 and event.form == "demo_request"' })).event).toEqual({
      price: 31,
      form: 'demo_request',
    });
    expect(sampleFromTrigger(flow({ event: 'x', when: 'has(user.phone) and user.sms_opt_in' })).user).toEqual({ sms_opt_in: true });
    expect(sampleFromTrigger(flow({ event: 'x' }))).toEqual({ event: {}, user: {} });
  });
});

describe('an empty path', () => {
  it('says which event starts the flow when none was sent', () => {
    expect(emptyPathReason(flow({ event: 'signup' }), ['page_view'])).toMatch(/starts on 'signup'.*'page_view'.*Add a 'signup' event/);
    expect(emptyPathReason(flow({ event: 'signup', when: 'event.plan == "pro"' }), ['signup'])).toMatch(/did not meet the starting condition when event.plan == "pro"/);
    expect(emptyPathReason(flow({ event: '' }), [])).toMatch(/no starting event/);
    // A broadcast names its schedule and audience, not a missing event.
    expect(emptyPathReason(flow({ event: '', schedule: '2027-01-05 10:00', audience: 'user.tier == "vip"' }), [])).toBe(
      'No journey started: this flow starts on its schedule (at 2027-01-05 10:00 for user.tier == "vip"), not on an event. The sample user is not in the audience, or the simulated time ends before the schedule.',
    );
  });
});
