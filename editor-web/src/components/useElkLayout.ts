// Runs ELK for the canvas: once React Flow knows every box's size and handle places
// (given before drawing for boxes without extra lines, Editor.tsx knownBox; measured
// for the others), again when a box changes size while the flow still stands as
// laid out (live numbers make boxes taller), and when the user asks (Auto-layout).
// ELK works in a web worker, so a large flow never freezes the page.
import { useNodesInitialized, useReactFlow, type InternalNode, type Node } from '@xyflow/react';
import ELK from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Flow } from '../model/ir';
import type { Position } from '../model/graph';
import { generatedFlow, layoutFlow, plainBoxes, sameBoxes, storedLayouts, TRIGGER_ID, WARM_UP_FLOW, type Elk, type Layout, type MeasuredBox } from '../model/layout';

let elk: Elk | null = null;
// Layouts of inputs seen before in this browser: a reopened flow skips ELK's run.
const layouts = storedLayouts();
function elkInstance(): Elk {
  // Only the layered algorithm: the worker registers no other, which cuts its start
  // (about a quarter of the CPU time before its first layout, measured in Node).
  elk ??= new ELK({ workerUrl: elkWorkerUrl, algorithms: ['layered'] });
  return elk;
}

// Starts ELK's worker (1.6 MB of script to parse) and lays out, while the page has
// nothing else to do, a small flow with every kind of arrow and then a 30-node one
// twice: the first flow opened finds the worker parsed and the layered algorithm's code
// for large flows compiled (a cold worker took 2-3 s for the 60-node flow at load 11).
// Each step waits for the one before, and warming up stops as soon as a flow's own
// layout is asked, so it never delays one by more than the step under way.
let asked = false;
export async function warmUpLayout() {
  for (const f of [WARM_UP_FLOW, generatedFlow(30), generatedFlow(30)]) {
    if (asked) return;
    await layoutFlow(elkInstance(), f, plainBoxes(f)).catch(() => {});
  }
  performance.mark('trellis:warm');
}
// A flow's own layout (kept answers first).
function flowLayout(flow: Flow, boxes: Record<string, MeasuredBox>): Promise<Layout> {
  asked = true;
  return layoutFlow(elkInstance(), flow, boxes, labelWidth, layouts);
}

// The layout of a flow just read, started before React draws it (Editor's load calls
// startLayout): the canvas takes it up when it gets that flow.
let started: { flow: Flow; boxes: Record<string, MeasuredBox>; layout: Promise<Layout> } | null = null;
export function startLayout(flow: Flow) {
  const boxes = plainBoxes(flow);
  performance.mark('trellis:layout-early');
  started = { flow, boxes, layout: flowLayout(flow, boxes) };
}

let textCanvas: CanvasRenderingContext2D | null = null;
// Width of an arrow label as the canvas draws it (.react-flow__edge-text).
function labelWidth(text: string): number {
  textCanvas ??= document.createElement('canvas').getContext('2d');
  if (!textCanvas) return text.length * 7;
  textCanvas.font = `12px ${getComputedStyle(document.body).fontFamily}`;
  return Math.ceil(textCanvas.measureText(text).width) + 2;
}

function measuredBox(n: InternalNode<Node> | undefined): MeasuredBox | null {
  const w = n?.measured.width;
  const h = n?.measured.height;
  if (!n || !w || !h) return null;
  const out: Record<string, Position> = {};
  for (const b of n.internals.handleBounds?.source ?? []) if (b.id) out[b.id] = { x: b.x + b.width / 2, y: h };
  const t = n.internals.handleBounds?.target?.[0];
  return { width: w, height: h, in: t ? { x: t.x + t.width / 2, y: 0 } : undefined, out };
}

export type ApplyPositions = (positions: Record<string, Position>, how: 'replace' | 'push') => void;

export function useElkLayout(flow: Flow | undefined, positions: Record<string, Position> | undefined, needsLayout: boolean, applyPositions: ApplyPositions) {
  const rf = useReactFlow();
  const initialized = useNodesInitialized();
  const [layout, setLayout] = useState<Layout | null>(null);
  const [ready, setReady] = useState(false);
  // Layouts applied so far (tests wait for the next one after Auto-layout).
  const [applied, setApplied] = useState(0);
  const seq = useRef(0);
  const flowRef = useRef(flow);
  flowRef.current = flow;

  const measuredBoxes = useCallback((f: Flow) => {
    const boxes: Record<string, MeasuredBox> = {};
    for (const id of [TRIGGER_ID, ...f.nodes.map((n) => n.id)]) {
      const b = measuredBox(rf.getInternalNode(id));
      if (b) boxes[id] = b;
    }
    return boxes;
  }, [rf]);

  // An early layout, started as soon as the flow is read, from the boxes as they are
  // drawn without extra lines (model/layout.ts BOX): ELK works while the page draws and
  // measures them, and its answer is used when the boxes measured so (else ELK runs
  // again with the measured boxes: a box with more lines costs time, never a wrong picture).
  const early = useRef<{ boxes: Record<string, MeasuredBox>; layout: Promise<Layout> } | null>(null);

  const run = useCallback(async (): Promise<Layout | null> => {
    const f = flowRef.current;
    if (!f) return null;
    const mine = ++seq.current;
    const boxes = measuredBoxes(f);
    const guess = early.current;
    early.current = null;
    performance.mark('trellis:layout-start');
    const guessed = !!guess && sameBoxes(guess.boxes, boxes);
    if (guessed) performance.mark('trellis:layout-guessed');
    const l = guessed ? await guess.layout : await flowLayout(f, boxes);
    performance.mark('trellis:layout-done');
    return mine === seq.current ? l : null; // a newer run supersedes this one
  }, [measuredBoxes]);

  // First layout, once every box is measured: positions from ELK unless the user's own
  // arrangement was kept for this flow.
  const begun = useRef(false);
  useEffect(() => {
    if (!flow || begun.current || early.current) return;
    if (started?.flow === flow) {
      early.current = started;
      started = null;
      return;
    }
    const boxes = plainBoxes(flow);
    performance.mark('trellis:layout-early');
    early.current = { boxes, layout: flowLayout(flow, boxes) };
  }, [flow]);
  useEffect(() => {
    if (!initialized || begun.current || !flow) return;
    begun.current = true;
    performance.mark('trellis:measured');
    void run().then((l) => {
      if (!l) return;
      setLayout(l);
      if (needsLayout) applyPositions(l.positions, 'replace');
      setReady(true);
      setApplied((n) => n + 1);
    });
  }, [initialized, flow, run, needsLayout, applyPositions]);

  // Boxes that grew or shrank while everything still stands where ELK put it: lay out
  // again so the arrows keep clear of them. Checked again when the first layout lands,
  // since boxes that grew while it was running (live numbers arriving early on a busy
  // machine) change no size afterwards and would keep plain arrows for good.
  const sizesKey = flow
    ? [TRIGGER_ID, ...flow.nodes.map((n) => n.id)]
        .map((id) => {
          const n = rf.getInternalNode(id);
          return `${Math.round(n?.measured.width ?? 0)}x${Math.round(n?.measured.height ?? 0)}`;
        })
        .join(',')
    : '';
  useEffect(() => {
    if (!ready || !layout || !flow || !positions) return;
    const asLaidOut = flow.nodes.every((n) => {
      const a = positions[n.id];
      const b = layout.positions[n.id];
      return a && b && a.x === b.x && a.y === b.y;
    });
    if (!asLaidOut) return;
    const changed = flow.nodes.some((n) => {
      const m = rf.getInternalNode(n.id)?.measured;
      const s = layout.sizes[n.id];
      return !m?.width || !s || Math.abs(m.width - s.width) >= 1 || Math.abs((m.height ?? 0) - s.height) >= 1;
    });
    if (!changed) return;
    void run().then((l) => {
      if (!l) return;
      setLayout(l);
      applyPositions(l.positions, 'replace');
      setApplied((n) => n + 1);
    });
  }, [sizesKey, ready]); // eslint-disable-line react-hooks/exhaustive-deps

  const relayout = useCallback(async () => {
    const l = await run();
    if (!l) return false;
    setLayout(l);
    applyPositions(l.positions, 'push');
    setApplied((n) => n + 1);
    return true;
  }, [run, applyPositions]);

  return { layout, ready, relayout, applied };
}
