import { getSmoothStepPath, type Edge, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import { estimateTextWidth, LABEL_HEIGHT, routePath, type Box, type Route } from '../model/layout';

export interface RoutedEdgeData extends Record<string, unknown> {
  route?: Route; // ELK's route while both ends stand where they were laid out
  text?: string;
}

export type RoutedEdgeType = Edge<RoutedEdgeData, 'routed'>;

// An arrow along ELK's route: it bends around the boxes it does not connect and its
// label sits where ELK placed it, clear of boxes and other labels. Without a route
// (a box was dragged, or the arrow is new) it is a plain stepped arrow until the next
// auto-layout.
function RoutedEdgeView(p: EdgeProps<RoutedEdgeType>) {
  const route = p.data?.route;
  const text = p.data?.text ?? '';
  let path: string;
  let label: Box | undefined;
  if (route) {
    // The ends are the handles the canvas has now (ELK's ports are at the same place).
    const last = route.points.length - 1;
    path = routePath(
      route.points.map((pt, i) => (i === 0 ? { x: p.sourceX, y: p.sourceY } : i === last ? { x: p.targetX, y: p.targetY } : pt)),
    );
    label = route.label;
  } else {
    const [d, lx, ly] = getSmoothStepPath(p);
    path = d;
    const w = estimateTextWidth(text) + 10;
    label = { x: lx - w / 2, y: ly - LABEL_HEIGHT / 2, width: w, height: LABEL_HEIGHT };
  }
  return (
    <>
      <path
        id={p.id}
        d={path}
        fill="none"
        className="react-flow__edge-path"
        style={p.style}
        markerEnd={p.markerEnd}
        data-source={p.source}
        data-handle={p.sourceHandleId ?? ''}
        data-target={p.target}
        data-routed={route ? 'elk' : 'plain'}
      />
      <path d={path} fill="none" strokeOpacity={0} strokeWidth={p.interactionWidth ?? 20} className="react-flow__edge-interaction" />
      {text && label && (
        <g className="react-flow__edge-textwrapper" data-label-for={p.id}>
          <rect className="react-flow__edge-textbg" x={label.x} y={label.y} width={label.width} height={label.height} rx={3} ry={3} />
          <text
            className="react-flow__edge-text"
            x={label.x + label.width / 2}
            y={label.y + label.height / 2}
            dominantBaseline="central"
            textAnchor="middle"
          >
            {text}
          </text>
        </g>
      )}
    </>
  );
}

export const RoutedEdge = memo(RoutedEdgeView);
