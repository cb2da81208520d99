// Auto-layout and arrow routing with ELK's layered algorithm: boxes in layers top to
// bottom along their arrows, and every arrow routed orthogonally *around* the boxes it
// does not connect, with its label placed by ELK where no box or other label is.
// The trigger is a box of its own (TRIGGER_ID) above the start node.
//
// ELK runs wherever the caller's `Elk` runs (a web worker in the editor, the bundled
// synchronous build in tests); this module only builds its input and reads its output.
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { Flow } from './ir';
import { edgeId, slotsOf, type Position } from './graph';

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 110;
export const TRIGGER_ID = '__trigger';
export const TRIGGER_HANDLE = 'next';
export const LABEL_HEIGHT = 18;
const LABEL_PAD_X = 10;

export interface Size {
  width: number;
  height: number;
}
export interface Box extends Position, Size {}

// A box as the canvas measured it: its size and where its handles are (relative to
// the box's top-left corner: the incoming one on top, the outgoing ones at the bottom).
export interface MeasuredBox extends Size {
  in?: Position;
  out: Record<string, Position>;
}

export interface LayoutEdge {
  id: string;
  source: string;
  handle: string;
  target: string;
  label: string;
}

export interface Route {
  points: Position[]; // from the source handle to the target handle, bends in between
  label?: Box;
}

export interface Layout {
  positions: Record<string, Position>; // top-left corners, trigger box included
  sizes: Record<string, Size>; // the sizes laid out with: a box that grew needs a new layout
  routes: Record<string, Route>; // by edge id
}

// The subset of elkjs the layout needs, so tests can pass the synchronous build.
export interface Elk {
  layout(graph: ElkNode): Promise<ElkNode>;
}

// Every arrow the canvas draws, the trigger's included; self-loops are left to the
// canvas (ELK's layered routing does not draw them around the box).
export function canvasEdges(flow: Flow): LayoutEdge[] {
  const ids = new Set(flow.nodes.map((n) => n.id));
  const edges: LayoutEdge[] = [];
  if (flow.start && ids.has(flow.start)) {
    edges.push({ id: edgeId(TRIGGER_ID, TRIGGER_HANDLE), source: TRIGGER_ID, handle: TRIGGER_HANDLE, target: flow.start, label: '' });
  }
  for (const n of flow.nodes) {
    for (const s of slotsOf(n)) {
      if (!s.target || !ids.has(s.target)) continue;
      edges.push({ id: edgeId(n.id, s.handle), source: n.id, handle: s.handle, target: s.target, label: s.label });
    }
  }
  return edges;
}

// The lines of a box, in px. FlowNode and TriggerNode draw every box with exactly
// these (main.tsx hands them to styles.css as CSS variables), so a box's size and the
// places of its handles are known before it is drawn: ELK lays out a flow as soon as it
// is read, while the page draws it, even the first time a browser opens it. Live
// numbers, results and simulation add lines of their own; such boxes are measured.
export const BOX = {
  width: 220,
  borderTop: 4,
  border: 1, // left, right and bottom (whole pixels: chromium draws 1.5 px as 1)
  head: 26, // type chip and id
  summary: 25, // one line of what the box does
  slots: 26, // the row of outgoing handles with their names
  slotsPadX: 2,
} as const;

// A box as the canvas draws it without extra lines: the incoming handle centred on
// top (the trigger has none), each outgoing one centred in its share of the bottom row.
export function plainBox(handles: string[], incoming = true): MeasuredBox {
  const height = BOX.borderTop + BOX.head + BOX.summary + (handles.length > 0 ? BOX.slots : 0) + BOX.border;
  const left = BOX.border + BOX.slotsPadX;
  const share = (BOX.width - 2 * left) / Math.max(1, handles.length);
  const out: Record<string, Position> = {};
  handles.forEach((h, i) => (out[h] = { x: left + (i + 0.5) * share, y: height }));
  return { width: BOX.width, height, ...(incoming ? { in: { x: BOX.width / 2, y: 0 } } : {}), out };
}

// The handles (the dots arrows start and end on) as styles.css draws them: 11 px
// squares (.react-flow__handle), the incoming one centred on the box's top edge, each
// outgoing one with its top 8 px above the box's bottom edge (.slot .react-flow__handle).
// The canvas e2e checks that every arrow starts and ends on its dots.
export const HANDLE = { size: 11, outTop: 8 } as const;

export interface CanvasHandle extends Position, Size {
  id: string;
  type: 'source' | 'target';
  position: 'top' | 'bottom';
}

// The handles of a box, as React Flow would measure them on the drawn box (top-left
// corners relative to the box): given to React Flow with the box's size, it needs
// not draw a box to route its arrows or to know whether it is in view.
export function boxHandles(box: MeasuredBox): CanvasHandle[] {
  const s = HANDLE.size;
  const handles: CanvasHandle[] = [];
  if (box.in) handles.push({ id: 'in', type: 'target', position: 'top', x: box.in.x - s / 2, y: box.in.y - s / 2, width: s, height: s });
  for (const [id, p] of Object.entries(box.out)) {
    handles.push({ id, type: 'source', position: 'bottom', x: p.x - s / 2, y: p.y - HANDLE.outTop, width: s, height: s });
  }
  return handles;
}

// The CSS variables styles.css draws boxes with (set once on the document).
export function boxCssVariables(): Record<string, string> {
  return Object.fromEntries(Object.entries(BOX).map(([k, v]) => [`--box-${k}`, `${v}px`]));
}

// Every box of the flow as drawn without extra lines (the trigger's when it has a start).
export function plainBoxes(flow: Flow): Record<string, MeasuredBox> {
  const out: Record<string, MeasuredBox> = {};
  if (flow.start && flow.nodes.some((n) => n.id === flow.start)) out[TRIGGER_ID] = plainBox([TRIGGER_HANDLE], false);
  for (const n of flow.nodes) out[n.id] = plainBox(slotsOf(n).map((s) => s.handle));
  return out;
}

// The same boxes to within half a pixel (sizes and handle places).
export function sameBoxes(a: Record<string, MeasuredBox | undefined>, b: Record<string, MeasuredBox | undefined>): boolean {
  const near = (x: number | undefined, y: number | undefined) => x !== undefined && y !== undefined && Math.abs(x - y) < 0.5;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const p = a[k];
    const q = b[k];
    if (!p || !q || !near(p.width, q.width) || !near(p.height, q.height)) return false;
    if (!!p.in !== !!q.in || (p.in && q.in && (!near(p.in.x, q.in.x) || !near(p.in.y, q.in.y)))) return false;
    const hp = Object.keys(p.out);
    if (hp.length !== Object.keys(q.out).length) return false;
    return hp.every((h) => q.out[h] !== undefined && near(p.out[h].x, q.out[h].x) && near(p.out[h].y, q.out[h].y));
  });
}

// Rough label width for tests and as a floor: the editor measures the real text.
export function estimateTextWidth(text: string): number {
  return Math.ceil(text.length * 6.6);
}

const LAYOUT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.edgeRouting': 'ORTHOGONAL',
  // One sweep of crossing minimisation: a 60-node flow lays out in about 0.2 s
  // instead of 0.6 s, with the same routing (measured with elkjs 0.12).
  'elk.layered.thoroughness': '1',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.layered.spacing.edgeNodeBetweenLayers': '18',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '14',
  'elk.spacing.nodeNode': '48',
  'elk.spacing.edgeNode': '24',
  'elk.spacing.edgeEdge': '14',
  'elk.spacing.edgeLabel': '6',
  'elk.spacing.labelNode': '8',
  'elk.spacing.componentComponent': '60',
  'elk.separateConnectedComponents': 'true',
  'elk.padding': '[top=20,left=20,bottom=20,right=20]',
};

const portId = (node: string, handle: string) => `${node}\u0000${handle}`;
const IN = '\u0000in';

// The ELK graph of a flow: boxes with fixed ports where the canvas draws the handles,
// arrows from port to port with their labels sized as the canvas will draw them.
export function elkGraph(
  flow: Flow,
  boxes: Record<string, MeasuredBox>,
  textWidth: (s: string) => number = estimateTextWidth,
): ElkNode {
  const edges = canvasEdges(flow).filter((e) => e.source !== e.target);
  const box = (id: string, handles: string[]) => boxes[id] ?? plainBox(handles);
  const children: ElkNode[] = [];
  const node = (id: string, handles: string[], first: boolean): ElkNode => {
    const b = box(id, handles);
    const ports = [
      ...(first ? [] : [{ id: id + IN, x: (b.in?.x ?? b.width / 2) - 0.5, y: -1, width: 1, height: 1, layoutOptions: { 'elk.port.side': 'NORTH' } }]),
      ...handles.map((h) => {
        const p = b.out[h] ?? { x: b.width / 2, y: b.height };
        return { id: portId(id, h), x: p.x - 0.5, y: b.height, width: 1, height: 1, layoutOptions: { 'elk.port.side': 'SOUTH' } };
      }),
    ];
    return {
      id,
      width: b.width,
      height: b.height,
      ports,
      layoutOptions: {
        'elk.portConstraints': 'FIXED_POS',
        ...(first ? { 'elk.layered.layering.layerConstraint': 'FIRST' } : {}),
      },
    };
  };
  if (flow.start && flow.nodes.some((n) => n.id === flow.start)) children.push(node(TRIGGER_ID, [TRIGGER_HANDLE], true));
  for (const n of flow.nodes) children.push(node(n.id, slotsOf(n).map((s) => s.handle), false));
  const elkEdges: ElkExtendedEdge[] = edges.map((e) => ({
    id: e.id,
    sources: [portId(e.source, e.handle)],
    targets: [e.target + IN],
    labels: e.label
      ? [
          {
            text: e.label,
            width: textWidth(e.label) + LABEL_PAD_X,
            height: LABEL_HEIGHT,
            layoutOptions: { 'elk.edgeLabels.placement': 'CENTER' },
          },
        ]
      : [],
  }));
  return { id: 'root', layoutOptions: LAYOUT_OPTIONS, children, edges: elkEdges };
}

// ELK's answer as positions of the boxes' corners and routes of the arrows.
export function readLayout(out: ElkNode): Layout {
  const positions: Record<string, Position> = {};
  const sizes: Record<string, Size> = {};
  for (const c of out.children ?? []) {
    positions[c.id] = { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) };
    sizes[c.id] = { width: c.width ?? 0, height: c.height ?? 0 };
  }
  const routes: Record<string, Route> = {};
  for (const e of (out.edges ?? []) as ElkExtendedEdge[]) {
    const points: Position[] = [];
    for (const s of e.sections ?? []) {
      if (points.length === 0) points.push(s.startPoint);
      points.push(...(s.bendPoints ?? []), s.endPoint);
    }
    if (points.length < 2) continue;
    const l = e.labels?.[0];
    routes[e.id] = {
      points: points.map((p) => ({ x: p.x, y: p.y })),
      label:
        l && l.x !== undefined && l.y !== undefined
          ? { x: l.x, y: l.y, width: l.width ?? 0, height: l.height ?? LABEL_HEIGHT }
          : undefined,
    };
  }
  return { positions, sizes, routes };
}

// ELK's answers by their input. ELK is deterministic, so an input laid out before (a
// flow reopened, boxes of the same sizes) needs no second run in the worker: that run is
// most of the time to open a large flow. Kept per browser, a few flows deep.
export interface LayoutCache {
  get(key: string): Layout | undefined;
  set(key: string, layout: Layout): void;
}

// Two 32-bit FNV-1a hashes (different offsets) and the length of the input's JSON.
export function layoutKey(graph: ElkNode): string {
  const text = JSON.stringify(graph);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}.${text.length}`;
}

const LAYOUTS_KEY = 'trellis.layouts';
const KEPT_LAYOUTS = 8;

// The browser's cache of layouts (localStorage), the newest KEPT_LAYOUTS inputs.
export function storedLayouts(storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage): LayoutCache {
  const read = (): [string, Layout][] => {
    try {
      const v = JSON.parse(storage?.getItem(LAYOUTS_KEY) ?? '[]') as unknown;
      return Array.isArray(v) ? (v as [string, Layout][]) : [];
    } catch {
      return [];
    }
  };
  return {
    get: (key) => read().find(([k]) => k === key)?.[1],
    set: (key, layout) => {
      const kept = [[key, layout] as [string, Layout], ...read().filter(([k]) => k !== key)].slice(0, KEPT_LAYOUTS);
      try {
        storage?.setItem(LAYOUTS_KEY, JSON.stringify(kept));
      } catch {
        /* storage full or off: the cache is only an optimisation */
      }
    },
  };
}

export async function layoutFlow(
  elk: Elk,
  flow: Flow,
  boxes: Record<string, MeasuredBox>,
  textWidth?: (s: string) => number,
  cache?: LayoutCache,
): Promise<Layout> {
  const graph = elkGraph(flow, boxes, textWidth);
  const key = cache ? layoutKey(graph) : '';
  const known = cache?.get(key);
  if (known) return known;
  const layout = readLayout(await elk.layout(graph));
  cache?.set(key, layout);
  return layout;
}

// A route still fits its arrow while both ends stand where they were laid out with the
// size they had; after a drag or a grown box the canvas draws a plain arrow instead.
export function routeFits(layout: Layout | null, edge: { source: string; target: string }, now: Record<string, Box>): boolean {
  if (!layout) return false;
  return [edge.source, edge.target].every((id) => {
    const p = layout.positions[id];
    const s = layout.sizes[id];
    const b = now[id];
    return !!p && !!s && !!b && p.x === b.x && p.y === b.y && Math.abs(s.width - b.width) < 1 && Math.abs(s.height - b.height) < 1;
  });
}

export function overlaps(a: Box, b: Box, margin = 0): boolean {
  return a.x < b.x + b.width + margin && b.x < a.x + a.width + margin && a.y < b.y + b.height + margin && b.y < a.y + a.height + margin;
}

// Where a new box of `size` goes: `wanted` if it overlaps no box (with a gap), else
// the nearest free place on a grid around it, rows first, so palette clicks never
// stack boxes on each other.
export function freeSpot(boxes: Box[], size: Size, wanted: Position, gap = 24): Position {
  const stepX = size.width + gap;
  const stepY = size.height + gap;
  const free = (p: Position) => !boxes.some((b) => overlaps({ ...p, ...size }, b, gap - 1));
  if (free(wanted)) return wanted;
  for (let ring = 1; ring < 60; ring++) {
    const candidates: Position[] = [];
    for (let dy = -ring; dy <= ring; dy++) {
      for (let dx = -ring; dx <= ring; dx++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        candidates.push({ x: wanted.x + dx * stepX, y: wanted.y + dy * stepY });
      }
    }
    // Nearest first; below and right before above and left on ties.
    candidates.sort((a, b) => dist(a, wanted) - dist(b, wanted) || b.y - a.y || b.x - a.x);
    const hit = candidates.find(free);
    if (hit) return hit;
  }
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: wanted.x, y: bottom + gap };
}

function dist(a: Position, b: Position): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

// The SVG path of a route, drawn from the handles the canvas really has (they match
// ELK's ports to the pixel, unless a box moved since).
export function routePath(points: Position[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${round1(p.x)},${round1(p.y)}`).join(' ');
}

const round1 = (n: number) => Math.round(n * 10) / 10;

// Where boxes stand before ELK's first answer (the canvas hides them meanwhile): a grid,
// so each can be measured at its own size.
export function gridPositions(flow: Flow): Record<string, Position> {
  const out: Record<string, Position> = { [TRIGGER_ID]: { x: 0, y: 0 } };
  flow.nodes.forEach((n, i) => (out[n.id] = { x: (i % 6) * (NODE_WIDTH + 40), y: (1 + Math.floor(i / 6)) * (NODE_HEIGHT + 60) }));
  return out;
}

// A small flow with every kind of arrow (yes/no, timeout and event, variants with
// shares), laid out once while the editor starts: the first real layout then finds
// ELK's worker parsed and its layered algorithm compiled by the JIT, which on a cold,
// loaded machine was most of the first flow's wait (docs/benchmarks.md#editor).
export const WARM_UP_FLOW: Flow = {
  flow: 'warm_up',
  trigger: { event: 'signed_up' },
  start: 'pick',
  nodes: [
    { id: 'pick', type: 'segment', match: 'user.age > 30', yes: 'hold', no: 'split' },
    { id: 'hold', type: 'wait', for: '1h', until_event: 'order_paid', next: 'split', on_event: 'done' },
    { id: 'split', type: 'ab', variants: [{ name: 'a', weight: 50, next: 'text' }, { name: 'b', weight: 50, next: 'mail' }] },
    { id: 'text', type: 'sms', text: 'Hi', next: 'done' },
    { id: 'mail', type: 'email', subject: 'Hi', body: 'Hi', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
} as Flow;

// A flow of n nodes: segments branching forward, A/B tests, waits and messages that
// skip levels, all ending in one exit (the shape of the e2e's generated flow). The
// editor lays one out while it starts, after WARM_UP_FLOW, so ELK's code for large
// flows is compiled before the first one is opened.
export function generatedFlow(n: number): Flow {
  const ids = Array.from({ length: n - 1 }, (_, i) => `step_${i + 1}`);
  const at = (i: number) => (i < ids.length ? ids[i] : 'done');
  const nodes: Flow['nodes'] = ids.map((id, i) => {
    switch (i % 5) {
      case 0:
        return { id, type: 'segment', match: `user.score > ${i}`, yes: at(i + 1), no: at(i + 3) };
      case 1:
        return { id, type: 'wait', for: '1h', until_event: 'order_paid', next: at(i + 1), on_event: at(i + 4) };
      case 2:
        return { id, type: 'ab', variants: [{ name: 'a', weight: 50, next: at(i + 1) }, { name: 'b', weight: 50, next: at(i + 2) }] };
      case 3:
        return { id, type: 'sms', text: `Message ${i}`, next: at(i + 1) };
      default:
        return { id, type: 'email', subject: `Subject ${i}`, body: 'Hi', next: at(i + 1) };
    }
  });
  nodes.push({ id: 'done', type: 'exit' });
  return { flow: 'generated', trigger: { event: 'signed_up' }, re_entry: 'never', start: ids[0], nodes };
}
