import { describe, expect, it } from 'vitest';
import { boxesForLayout, estimatedBox, rememberBoxes, sameBoxes, TRIGGER_ID, type MeasuredBox } from '../src/model/layout';
import type { Flow } from '../src/model/ir';

const measured = (handles: string[], height: number): MeasuredBox => estimatedBox(handles, 223, height);

const first: Flow = {
  flow: 'first',
  trigger: { event: 'signed_up' },
  start: 'pick',
  nodes: [
    { id: 'pick', type: 'segment', match: 'user.age > 30', yes: 'text', no: 'done' },
    { id: 'text', type: 'sms', text: 'Hi', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
} as Flow;

describe('boxes guessed from earlier flows', () => {
  it('guesses every box of a later flow by its number of slots, and nothing when one was never seen', () => {
    const boxes = {
      [TRIGGER_ID]: measured(['next'], 80),
      pick: measured(['yes', 'no'], 96),
      text: measured(['next'], 96),
      done: measured([], 64),
    };
    rememberBoxes(first, boxes);
    const later: Flow = {
      flow: 'later',
      trigger: { event: 'order_paid' },
      start: 'hold',
      nodes: [
        { id: 'hold', type: 'wait', for: '1h', until_event: 'x', next: 'mail', on_event: 'end' },
        { id: 'mail', type: 'email', subject: 'Hi', body: 'Hi', next: 'end' },
        { id: 'end', type: 'exit' },
      ],
    } as Flow;
    const guess = boxesForLayout(later);
    expect(guess).not.toBeNull();
    expect(guess![TRIGGER_ID]).toEqual(boxes[TRIGGER_ID]);
    // The wait's slots stand where the segment's did, under the wait's own names.
    expect(guess!.hold).toEqual({ ...boxes.pick, out: { next: boxes.pick.out.yes, on_event: boxes.pick.out.no } });
    expect(guess!.mail).toEqual(boxes.text);
    expect(guess!.end).toEqual(boxes.done);
    const threeWay = {
      ...later,
      nodes: [{ id: 'split', type: 'ab', variants: [{ name: 'a', weight: 1, next: 'end' }, { name: 'b', weight: 1, next: 'end' }, { name: 'c', weight: 1, next: 'end' }] }, ...later.nodes],
    } as Flow;
    expect(boxesForLayout(threeWay)).toBeNull();
  });

  it('uses a guess only when the measured boxes match it to half a pixel', () => {
    const a = { x: measured(['yes', 'no'], 96) };
    expect(sameBoxes(a, { x: measured(['yes', 'no'], 96.3) })).toBe(true);
    expect(sameBoxes(a, { x: measured(['yes', 'no'], 97) })).toBe(false);
    expect(sameBoxes(a, { x: measured(['yes', 'no', 'maybe'], 96) })).toBe(false);
    expect(sameBoxes(a, { x: measured(['yes', 'no'], 96), y: measured([], 64) })).toBe(false);
    expect(sameBoxes(a, { y: measured(['yes', 'no'], 96) })).toBe(false);
  });
});
