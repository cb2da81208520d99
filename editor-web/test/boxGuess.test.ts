import { describe, expect, it } from 'vitest';
import { BOX, boxCssVariables, boxHandles, HANDLE, plainBox, plainBoxes, sameBoxes, TRIGGER_ID, type MeasuredBox } from '../src/model/layout';
import type { Flow } from '../src/model/ir';

const withHeight = (handles: string[], height: number): MeasuredBox => ({ ...plainBox(handles), height });

const flow: Flow = {
  flow: 'first',
  trigger: { event: 'signed_up' },
  start: 'hold',
  nodes: [
    { id: 'hold', type: 'wait', for: '1h', until_event: 'x', next: 'split', on_event: 'end' },
    { id: 'split', type: 'ab', variants: [{ name: 'a', weight: 1, next: 'end' }, { name: 'b', weight: 1, next: 'end' }, { name: 'c', weight: 1, next: 'end' }] },
    { id: 'end', type: 'exit' },
  ],
} as Flow;

describe('boxes known before they are drawn', () => {
  it('gives every box its size from its lines and its handles evenly along the bottom row', () => {
    const boxes = plainBoxes(flow);
    expect(Object.keys(boxes).sort()).toEqual([TRIGGER_ID, 'end', 'hold', 'split'].sort());
    const withSlots = BOX.borderTop + BOX.head + BOX.summary + BOX.slots + BOX.border;
    expect(boxes.hold).toMatchObject({ width: BOX.width, height: withSlots, in: { x: BOX.width / 2, y: 0 } });
    // An exit has no row of slots.
    expect(boxes.end.height).toBe(withSlots - BOX.slots);
    expect(boxes.end.out).toEqual({});
    // Three variants share the row: centres at 1/6, 3/6, 5/6 of its inner width.
    const inner = BOX.width - 2 * (BOX.border + BOX.slotsPadX);
    const xs = ['variant:a', 'variant:b', 'variant:c'].map((h) => boxes.split.out[h].x - BOX.border - BOX.slotsPadX);
    xs.forEach((x, i) => expect(x).toBeCloseTo(((2 * i + 1) * inner) / 6, 6));
    expect(boxes[TRIGGER_ID].out.next.x).toBeCloseTo(BOX.width / 2, 6);
    expect(boxes[TRIGGER_ID].in).toBeUndefined(); // nothing goes into the trigger
    // Whole pixels, so what the browser measures (offsetHeight) is the same number.
    for (const b of Object.values(boxes)) expect(Number.isInteger(b.height)).toBe(true);
  });

  it("gives React Flow each box's handles where it would measure them on the drawn box", () => {
    const boxes = plainBoxes(flow);
    const s = HANDLE.size;
    // As chromium draws them (cart_reminder, zoom 1): 11 px dots, the incoming one
    // centred on the top edge, the outgoing ones from 8 px above the bottom edge.
    expect(boxHandles(boxes.hold)).toEqual([
      { id: 'in', type: 'target', position: 'top', x: 104.5, y: -5.5, width: s, height: s },
      { id: 'next', type: 'source', position: 'bottom', x: 51, y: 74, width: s, height: s },
      { id: 'on_event', type: 'source', position: 'bottom', x: 158, y: 74, width: s, height: s },
    ]);
    // Their centres are the places ELK's ports are put (the incoming one on the top edge).
    for (const b of Object.values(boxes)) {
      for (const h of boxHandles(b)) {
        const centre = h.x + h.width / 2;
        if (h.type === 'target') expect({ x: centre, y: h.y + h.height / 2 }).toEqual(b.in);
        else expect(centre).toBeCloseTo(b.out[h.id].x, 6);
      }
    }
    expect(boxHandles(boxes.end).map((h) => h.id)).toEqual(['in']);
    expect(boxHandles(boxes[TRIGGER_ID]).map((h) => h.id)).toEqual(['next']);
  });

  it('has no trigger box when the flow has no start', () => {
    expect(Object.keys(plainBoxes({ ...flow, start: undefined } as Flow))).not.toContain(TRIGGER_ID);
  });

  it('hands its lines to the stylesheet as CSS variables', () => {
    expect(boxCssVariables()).toMatchObject({ '--box-width': `${BOX.width}px`, '--box-head': `${BOX.head}px`, '--box-summary': `${BOX.summary}px` });
  });

  it('uses a guess only when the measured boxes match it to half a pixel', () => {
    const a = { x: withHeight(['yes', 'no'], 96) };
    expect(sameBoxes(a, { x: withHeight(['yes', 'no'], 96.3) })).toBe(true);
    expect(sameBoxes(a, { x: withHeight(['yes', 'no'], 97) })).toBe(false);
    expect(sameBoxes(a, { x: withHeight(['yes', 'no', 'maybe'], 96) })).toBe(false);
    expect(sameBoxes(a, { x: withHeight(['yes', 'no'], 96), y: withHeight([], 64) })).toBe(false);
    expect(sameBoxes(a, { y: withHeight(['yes', 'no'], 96) })).toBe(false);
  });
});
