// IR JSON ⇄ canvas graph. The canvas shows one box per node and one arrow per set
// outgoing slot; every slot has a handle so the user can drag a connection from it.
// Pure functions: no React, no fetch, so the mapping is unit-tested on its own.

import type { Flow, IrNode } from './ir';
import { kindOf } from './kinds';

// An outgoing slot of a node: the field it lives in and the handle id the canvas uses.
export interface Slot {
  handle: string; // "next", "yes", "variant:a", ...
  field: string; // IR field: "next", "yes", "variants.a.next", ...
  label: string; // what the arrow says
  target?: string;
}

export interface Position {
  x: number;
  y: number;
}

export interface GraphNode {
  id: string;
  type: 'trellis';
  position: Position;
  data: { node: IrNode; start: boolean };
}

export interface GraphEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  label: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const VARIANT_PREFIX = 'variant:';

export function variantHandle(name: string): string {
  return VARIANT_PREFIX + name;
}

// Share of each variant in percent, rounded to one decimal, from raw weights.
export function variantShare(node: IrNode, name: string): number {
  const variants = node.variants ?? [];
  const total = variants.reduce((s, v) => s + (Number.isFinite(v.weight) ? v.weight : 0), 0);
  const v = variants.find((x) => x.name === name);
  if (!v || total <= 0) return 0;
  return Math.round((v.weight / total) * 1000) / 10;
}

// Every outgoing slot of a node in the order of ir::edges_of, set or not.
export function slotsOf(node: IrNode): Slot[] {
  const s = (handle: string, label: string, target?: string, field = handle): Slot => ({
    handle,
    field,
    label,
    target: target || undefined,
  });
  switch (node.type) {
    case 'segment':
      return [s('yes', 'yes', node.yes), s('no', 'no', node.no)];
    case 'wait': {
      const slots: Slot[] = [];
      // With a timer, `next` is what happens when time runs out; without one it is unused
      // unless the user set it, so it only shows then.
      const timer = node.for ? `timeout ${node.for}` : node.until_time ? `at ${node.until_time}` : undefined;
      if (timer || node.next) slots.push(s('next', timer ?? 'next', node.next));
      if (node.until_event !== undefined || node.on_event) {
        const ev = typeof node.until_event === 'string' ? node.until_event : node.until_event?.event;
        slots.push(s('on_event', ev ? `on ${ev}` : 'on_event', node.on_event));
      }
      return slots;
    }
    case 'coupon':
      return [s('next', 'next', node.next), s('on_exhausted', 'exhausted', node.on_exhausted)];
    case 'sms':
    case 'email':
    case 'webhook':
      return [s('next', 'next', node.next)];
    case 'ab':
      return (node.variants ?? []).map((v) =>
        s(variantHandle(v.name), `${v.name} · ${variantShare(node, v.name)}%`, v.next, `variants.${v.name}.next`),
      );
    case 'exit':
      return [];
    default:
      return tableSlots(node, s);
  }
}

// A kind without slots of its own here (a generic kind, docs/node-kinds.md): in
// table order, its target fields and each branch of a list of branches, labelled
// by its condition, as ir::edges_of lists them.
function tableSlots(node: IrNode, s: (handle: string, label: string, target?: string, field?: string) => Slot): Slot[] {
  const slots: Slot[] = [];
  for (const f of kindOf(node.type)?.fields ?? []) {
    const value = node[f.name];
    if (f.widget === 'target') slots.push(s(f.name, f.name, typeof value === 'string' ? value : undefined));
    if (f.widget === 'branches' && Array.isArray(value)) {
      (value as { when?: string; next?: string }[]).forEach((b, i) =>
        slots.push(s(`${f.name}.${i}`, b?.when || `branch ${i + 1}`, b?.next, `${f.name}.${i}.next`)),
      );
    }
  }
  return slots;
}

export function edgeId(source: string, handle: string): string {
  return `${source}->${handle}`;
}

export function flowToGraph(flow: Flow, positions: Record<string, Position>): Graph {
  const nodes: GraphNode[] = flow.nodes.map((n) => ({
    id: n.id,
    type: 'trellis',
    position: positions[n.id] ?? { x: 0, y: 0 },
    data: { node: n, start: flow.start === n.id },
  }));
  const ids = new Set(flow.nodes.map((n) => n.id));
  const edges: GraphEdge[] = [];
  for (const n of flow.nodes) {
    for (const slot of slotsOf(n)) {
      // A target naming no node has no arrow; the checker reports it on the field.
      if (!slot.target || !ids.has(slot.target)) continue;
      edges.push({
        id: edgeId(n.id, slot.handle),
        source: n.id,
        sourceHandle: slot.handle,
        target: slot.target,
        label: slot.label,
      });
    }
  }
  return { nodes, edges };
}

// Writes `target` (or clears it when undefined) into the slot `handle` of a node.
export function setSlot(node: IrNode, handle: string, target: string | undefined): IrNode {
  if (handle.startsWith(VARIANT_PREFIX)) {
    const name = handle.slice(VARIANT_PREFIX.length);
    return {
      ...node,
      variants: (node.variants ?? []).map((v) => (v.name === name ? { ...v, next: target } : v)),
    };
  }
  const branch = /^(.+)\.(\d+)$/.exec(handle);
  if (branch && Array.isArray(node[branch[1]])) {
    const index = Number(branch[2]);
    const list = (node[branch[1]] as { next?: string }[]).map((b, i) => (i === index ? { ...b, next: target } : b));
    return { ...node, [branch[1]]: list };
  }
  return { ...node, [handle]: target };
}

// The canvas graph back to IR: node bodies come from the boxes, targets from the
// arrows (an arrow is the only truth about a set slot; slots without one are cleared,
// except targets naming no node, which stay so the checker can still report them).
export function graphToFlow(base: Flow, graph: Graph): Flow {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const nodes = graph.nodes.map((gn) => {
    let node: IrNode = gn.data.node;
    for (const slot of slotsOf(node)) {
      if (slot.target && !ids.has(slot.target)) continue;
      node = setSlot(node, slot.handle, undefined);
    }
    for (const e of graph.edges) {
      if (e.source === gn.id) node = setSlot(node, e.sourceHandle, e.target);
    }
    return stripUndefined(node);
  });
  const start = graph.nodes.find((n) => n.data.start)?.id ?? base.start;
  return { ...base, start, nodes };
}

function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' ? stripUndefined(x) : x)) : v;
  }
  return out as T;
}

// ---- edits on the IR (each returns a new Flow) ----

export function connect(flow: Flow, source: string, handle: string, target: string): Flow {
  return {
    ...flow,
    nodes: flow.nodes.map((n) => (n.id === source ? stripUndefined(setSlot(n, handle, target)) : n)),
  };
}

export function disconnect(flow: Flow, source: string, handle: string): Flow {
  return {
    ...flow,
    nodes: flow.nodes.map((n) => (n.id === source ? stripUndefined(setSlot(n, handle, undefined)) : n)),
  };
}

export function addNode(flow: Flow, node: IrNode): Flow {
  // The first node of an empty flow is where journeys start.
  const start = flow.nodes.length === 0 && !flow.start ? node.id : flow.start;
  return { ...flow, start, nodes: [...flow.nodes, node] };
}

// Removes nodes and clears every slot that pointed at them.
export function removeNodes(flow: Flow, ids: string[]): Flow {
  const gone = new Set(ids);
  const nodes = flow.nodes
    .filter((n) => !gone.has(n.id))
    .map((n) => {
      let out = n;
      for (const slot of slotsOf(n)) {
        if (slot.target && gone.has(slot.target)) out = setSlot(out, slot.handle, undefined);
      }
      return stripUndefined(out);
    });
  return { ...flow, nodes, start: flow.start && gone.has(flow.start) ? undefined : flow.start };
}

export function updateNode(flow: Flow, id: string, update: (n: IrNode) => IrNode): Flow {
  return { ...flow, nodes: flow.nodes.map((n) => (n.id === id ? stripUndefined(update(n)) : n)) };
}

// Renames a node and every reference to it (slots and the flow's start).
export function renameNode(flow: Flow, from: string, to: string): Flow {
  if (from === to || !to || flow.nodes.some((n) => n.id === to)) return flow;
  const nodes = flow.nodes.map((n) => {
    let out: IrNode = n.id === from ? { ...n, id: to } : n;
    for (const slot of slotsOf(out)) {
      if (slot.target === from) out = setSlot(out, slot.handle, to);
    }
    return out;
  });
  return { ...flow, nodes, start: flow.start === from ? to : flow.start };
}
