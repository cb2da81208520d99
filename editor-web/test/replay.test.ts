import { describe, expect, it } from 'vitest';
import { comparedRows, pathText, replayErrorText, replayFromJson, replayRequestBody } from '../src/model/replay';

// The answer of POST /v1/flows/cart/replay for a draft whose wait is shorter
// (tests/api/replay_test.cpp runs the same case against the server).
const answer = {
  flow: 'cart',
  from: '2026-11-26T10:00:00.000Z',
  to: '2026-12-03T10:00:00.000Z',
  events: 5,
  users: 3,
  live: { version: 1, journeys: 3, live: 0, conversions: 1, messages: [{ node: 'remind', channel: 'sms', messages: 2 }] },
  draft: {
    version: null,
    journeys: 3,
    live: 0,
    conversions: 0,
    messages: [
      { node: 'remind', channel: 'sms', messages: 3 },
      { node: 'mail', channel: 'email', messages: 1 },
    ],
  },
  differing_users: 1,
  sample: [
    {
      user_id: 'u1',
      live: [
        {
          flow: 'cart',
          state: 'completed',
          node: 'done',
          steps: [
            { seq: 0, node: 'wait_pay', input: 'entry', at: 't', reason: 'waiting' },
            { seq: 1, node: 'wait_pay', input: 'event:checkout', at: 't', reason: 'checkout came' },
            { seq: 2, node: 'done', input: 'event:checkout', at: 't', reason: '' },
          ],
        },
      ],
      draft: [{ flow: 'cart', state: 'completed', node: 'done', steps: [{ seq: 0, node: 'wait_pay', input: 'entry' }, { seq: 1, node: 'remind', input: 'timer' }] }],
    },
  ],
};

describe('replay answers', () => {
  it('reads both sides and the sample', () => {
    const r = replayFromJson(answer);
    expect(r.live.version).toBe(1);
    expect(r.draft.version).toBeNull();
    expect(r.differingUsers).toBe(1);
    expect(r.sample[0].user).toBe('u1');
    expect(r.sample[0].live[0].steps[1].input).toBe('event:checkout');
    expect(r.sample[0].draft[0].steps[1].reason).toBe('');
  });

  it('compares totals and messages by node and channel, new rows of the draft last', () => {
    expect(comparedRows(replayFromJson(answer))).toEqual([
      { label: 'journeys', live: 3, draft: 3, change: '' },
      { label: 'conversions', live: 1, draft: 0, change: '−1' },
      { label: 'sms from remind', live: 2, draft: 3, change: '+1' },
      { label: 'email from mail', live: 0, draft: 1, change: '+1' },
    ]);
  });

  it('words a path once per node', () => {
    expect(pathText(replayFromJson(answer).sample[0].live[0])).toBe('wait_pay → done (completed)');
  });

  it('survives a malformed answer', () => {
    const r = replayFromJson({ live: 'x', sample: [null, 3] });
    expect(r.live.journeys).toBe(0);
    expect(r.sample).toEqual([]);
  });

  it('builds the request and words the errors', () => {
    expect(replayRequestBody({ flow: 'cart' }, '7d')).toEqual({ last: '7d', draft: { flow: 'cart' }, sample: 10 });
    expect(replayErrorText('replay_running')).toMatch(/another replay/i);
    expect(replayErrorText('replay_too_large', 'the period holds more than 100000')).toMatch(/shorter period/);
    expect(replayErrorText('invalid_replay', '`last` is a duration')).toBe('`last` is a duration');
  });
});
