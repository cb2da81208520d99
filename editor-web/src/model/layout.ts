// Auto-layout: dagre ranks the nodes top to bottom along their arrows.
import dagre from '@dagrejs/dagre';
import type { Flow } from './ir';
import { slotsOf, type Position } from './graph';

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 96;

export function autoLayout(flow: Flow): Record<string, Position> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 50, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(flow.nodes.map((n) => n.id));
  for (const n of flow.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const n of flow.nodes) {
    for (const s of slotsOf(n)) {
      if (s.target && ids.has(s.target) && s.target !== n.id) g.setEdge(n.id, s.target);
    }
  }
  dagre.layout(g);
  const out: Record<string, Position> = {};
  for (const id of g.nodes()) {
    const p = g.node(id);
    // dagre gives centres; the canvas places nodes by their top-left corner.
    out[id] = { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) };
  }
  return out;
}
