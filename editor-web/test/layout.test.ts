import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { addNode, connect, edgeId } from '../src/model/graph';
import { emptyFlow, freshId, type Flow } from '../src/model/ir';
import { newNode } from '../src/model/kinds';
import {
  canvasEdges,
  freeSpot,
  layoutFlow,
  layoutKey,
  overlaps,
  storedLayouts,
  routeFits,
  TRIGGER_ID,
  WARM_UP_FLOW,
  generatedFlow,
  type Box,
  type Layout,
} from '../src/model/layout';
import { cartReminder } from './fixtures';

const elk = new ELK();

// Every box of a layout, as laid out.
function boxes(l: Layout): Record<string, Box> {
  return Object.fromEntries(Object.entries(l.positions).map(([id, p]) => [id, { ...p, ...l.sizes[id] }]));
}

// Does the segment a→b pass through the inside of box r (shrunk by 1 px)?
function segmentCrosses(a: { x: number; y: number }, b: { x: number; y: number }, r: Box): boolean {
  const x0 = r.x + 1, x1 = r.x + r.width - 1, y0 = r.y + 1, y1 = r.y + r.height - 1;
  for (let i = 0; i <= 40; i++) {
    const x = a.x + ((b.x - a.x) * i) / 40;
    const y = a.y + ((b.y - a.y) * i) / 40;
    if (x > x0 && x < x1 && y > y0 && y < y1) return true;
  }
  return false;
}

function assertReadable(flow: Flow, l: Layout) {
  const all = boxes(l);
  const edges = canvasEdges(flow);
  const labels: [string, Box][] = [];
  for (const e of edges) {
    const r = l.routes[e.id];
    expect(r, `route of ${e.id}`).toBeDefined();
    for (const [id, b] of Object.entries(all)) {
      if (id === e.source || id === e.target) continue;
      for (let i = 0; i + 1 < r.points.length; i++) {
        expect(segmentCrosses(r.points[i], r.points[i + 1], b), `${e.id} crosses ${id}`).toBe(false);
      }
    }
    if (e.label) {
      expect(r.label, `label of ${e.id}`).toBeDefined();
      labels.push([e.id, r.label!]);
    }
  }
  for (const [id, lb] of labels) {
    for (const [n, b] of Object.entries(all)) expect(overlaps(lb, b), `label ${id} over box ${n}`).toBe(false);
    for (const [other, ob] of labels) if (other !== id) expect(overlaps(lb, ob), `label ${id} over label ${other}`).toBe(false);
  }
}

describe('ELK layout', () => {
  it('puts the trigger first and the start below it, routes every arrow around the boxes', async () => {
    const flow = cartReminder();
    const l = await layoutFlow(elk, flow, {});
    expect(Object.keys(l.positions).sort()).toEqual([TRIGGER_ID, ...flow.nodes.map((n) => n.id)].sort());
    expect(l.positions[TRIGGER_ID].y).toBeLessThan(l.positions.wait_pay.y);
    expect(l.positions.wait_pay.y).toBeLessThan(l.positions.pick.y);
    expect(l.routes[edgeId(TRIGGER_ID, 'next')]).toBeDefined();
    assertReadable(flow, l);
  });

  it('keeps a generated flow of 60 nodes readable', async () => {
    const flow = generatedFlow(60);
    const l = await layoutFlow(elk, flow, {});
    expect(Object.keys(l.positions)).toHaveLength(61);
    assertReadable(flow, l);
  }, 60000); // a bound, not a timing: ELK in Node takes seconds on a loaded machine

  it('lays out boxes with no arrow yet beside the rest, none on another', async () => {
    let flow = emptyFlow('f');
    for (let i = 0; i < 6; i++) flow = addNode(flow, newNode('sms', freshId(flow, 'sms')));
    flow = connect(flow, 'sms_1', 'next', 'sms_2');
    const l = await layoutFlow(elk, flow, {});
    const all = Object.entries(boxes(l));
    for (const [a, ba] of all) for (const [b, bb] of all) if (a < b) expect(overlaps(ba, bb), `${a} on ${b}`).toBe(false);
  });

  it('keeps a route only while both ends stand where they were laid out', async () => {
    const flow = cartReminder();
    const l = await layoutFlow(elk, flow, {});
    const now = boxes(l);
    const edge = { source: 'pick', target: 'nudge' };
    expect(routeFits(l, edge, now)).toBe(true);
    expect(routeFits(l, edge, { ...now, pick: { ...now.pick, x: now.pick.x + 40 } })).toBe(false);
    expect(routeFits(l, edge, { ...now, nudge: { ...now.nudge, height: now.nudge.height + 30 } })).toBe(false);
    expect(routeFits(null, edge, now)).toBe(false);
  });
});

describe('free spot for a new box', () => {
  const size = { width: 240, height: 110 };
  it('takes the wanted place when it is free', () => {
    expect(freeSpot([{ x: 0, y: 0, ...size }], size, { x: 400, y: 0 })).toEqual({ x: 400, y: 0 });
  });
  it('never lands on a box, however many are added at the same place', () => {
    const placed: Box[] = [];
    for (let i = 0; i < 12; i++) placed.push({ ...freeSpot(placed, size, { x: 100, y: 100 }), ...size });
    for (let i = 0; i < placed.length; i++)
      for (let j = i + 1; j < placed.length; j++) expect(overlaps(placed[i], placed[j])).toBe(false);
  });
});

describe('the warm-up flow', () => {
  it('is a flow ELK lays out, with every kind of arrow', async () => {
    const l = await layoutFlow(new ELK(), WARM_UP_FLOW, {});
    expect(Object.keys(l.positions).sort()).toEqual(['__trigger', 'done', 'hold', 'mail', 'pick', 'split', 'text'].sort());
    expect(Object.keys(l.routes)).toHaveLength(9); // the trigger's, yes/no, timeout/event, a/b, two next
  });
});

describe('the layout cache', () => {
  // A Storage in memory, and an ELK that counts its runs.
  const memory = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  };
  const counting = () => {
    const inner = new ELK();
    const c = { runs: 0, layout: (g: Parameters<typeof inner.layout>[0]) => (c.runs++, inner.layout(g)) };
    return c;
  };

  it('answers an input laid out before without running ELK, with the same layout', async () => {
    const cache = storedLayouts(memory());
    const e = counting();
    const first = await layoutFlow(e, cartReminder(), {}, undefined, cache);
    const again = await layoutFlow(e, cartReminder(), {}, undefined, cache);
    expect(e.runs).toBe(1);
    expect(again).toEqual(first);
    expect(again).toEqual(await layoutFlow(new ELK(), cartReminder(), {}));
    // Other box sizes are another input: ELK runs again.
    await layoutFlow(e, cartReminder(), { mail: { width: 300, height: 140, out: {} } }, undefined, cache);
    expect(e.runs).toBe(2);
  });

  it('keys inputs apart and keeps the newest eight', async () => {
    // The same flow with the exit box 9 widths: 9 inputs.
    const exitOf = (i: number) => ({ done: { width: 200 + i, height: 60, out: {} } });
    const storage = memory();
    const cache = storedLayouts(storage);
    const e = counting();
    for (let i = 0; i < 9; i++) await layoutFlow(e, WARM_UP_FLOW, exitOf(i), undefined, cache);
    expect(e.runs).toBe(9);
    expect(JSON.parse(storage.getItem('trellis.layouts')!)).toHaveLength(8);
    await layoutFlow(e, WARM_UP_FLOW, exitOf(8), undefined, cache); // kept
    expect(e.runs).toBe(9);
    await layoutFlow(e, WARM_UP_FLOW, exitOf(0), undefined, cache); // the oldest, dropped
    expect(e.runs).toBe(10);
    expect(layoutKey({ id: 'a', children: [] })).not.toBe(layoutKey({ id: 'b', children: [] }));
  });

  it('is only an optimisation without storage', async () => {
    const cache = storedLayouts(undefined);
    const e = counting();
    await layoutFlow(e, cartReminder(), {}, undefined, cache);
    await layoutFlow(e, cartReminder(), {}, undefined, cache);
    expect(e.runs).toBe(2);
  });
});
