// Auto-layout: dagre ranks the connected nodes top to bottom along their arrows;
// nodes with no arrow yet (just added from the palette) go in a grid below, where
// dagre would string them out in one long row.
import dagre from '@dagrejs/dagre';
import type { Flow } from './ir';
import { slotsOf, type Position } from './graph';

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 96;
const GRID_COLUMNS = 4;
const GAP_X = 50;
const GAP_Y = 40;

export function autoLayout(flow: Flow): Record<string, Position> {
  const ids = new Set(flow.nodes.map((n) => n.id));
  const linked = new Set<string>();
  const edges: [string, string][] = [];
  for (const n of flow.nodes) {
    for (const s of slotsOf(n)) {
      if (s.target && ids.has(s.target) && s.target !== n.id) {
        edges.push([n.id, s.target]);
        linked.add(n.id).add(s.target);
      }
    }
  }
  const out: Record<string, Position> = {};
  let bottom = 0;
  if (linked.size > 0) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'TB', nodesep: GAP_X, ranksep: 90, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of flow.nodes) if (linked.has(n.id)) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
    for (const [a, b] of edges) g.setEdge(a, b);
    dagre.layout(g);
    for (const id of g.nodes()) {
      const p = g.node(id);
      // dagre gives centres; the canvas places nodes by their top-left corner.
      out[id] = { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) };
      bottom = Math.max(bottom, out[id].y + NODE_HEIGHT + GAP_Y * 2);
    }
  }
  const loose = flow.nodes.filter((n) => !linked.has(n.id));
  loose.forEach((n, i) => {
    out[n.id] = {
      x: 20 + (i % GRID_COLUMNS) * (NODE_WIDTH + GAP_X),
      y: (bottom || 20) + Math.floor(i / GRID_COLUMNS) * (NODE_HEIGHT + GAP_Y),
    };
  });
  return out;
}
