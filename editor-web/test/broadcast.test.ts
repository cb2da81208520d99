import { describe, expect, it } from 'vitest';
import { triggerText } from '../src/components/TriggerNode';
import { flowToGraph, graphToFlow } from '../src/model/graph';
import { cleanFlow, type Flow } from '../src/model/ir';

// A broadcast (docs/flows.md#broadcasts): a schedule for an audience instead of an event.
const broadcast = (): Flow => ({
  flow: 'xmas',
  trigger: {
    event: '',
    schedule: '2026-12-24 10:00',
    every: 'day',
    in_user_time_zone: true,
    audience: 'user.tier == "vip"',
  },
  re_entry: 'always',
  start: 'hello',
  nodes: [
    { id: 'hello', type: 'sms', text: 'Merry Christmas', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

describe('a scheduled trigger in the editor', () => {
  it('goes through JSON and the canvas unchanged', () => {
    const flow = broadcast();
    const json = JSON.parse(JSON.stringify(cleanFlow(flow))) as Flow;
    expect(json.trigger).toEqual(flow.trigger);
    expect(graphToFlow(flow, flowToGraph(flow, {})).trigger).toEqual(flow.trigger);
  });

  it('drops unset schedule settings but keeps a schedule being typed', () => {
    const out = cleanFlow({ ...broadcast(), trigger: { event: '', schedule: '', audience: '', every: '' } });
    expect(out.trigger).toEqual({ event: '', schedule: '' });
    expect(cleanFlow({ ...broadcast(), trigger: { event: 'signup' } }).trigger).toEqual({ event: 'signup' });
  });

  it("says on the start box when, how often and for whom", () => {
    expect(triggerText(broadcast().trigger)).toBe(
      `at 2026-12-24 10:00 in each user's time, every day for user.tier == "vip"`,
    );
    expect(triggerText({ event: '', schedule: '2026-12-24 10:00' })).toBe('at 2026-12-24 10:00 for every profile');
    expect(triggerText({ event: 'signup', when: 'user.vip' })).toBe('when signup and user.vip');
  });
});
