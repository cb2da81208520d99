import { Handle, Position, useUpdateNodeInternals, type NodeProps, type Node } from '@xyflow/react';
import { memo, useEffect } from 'react';
import type { NodeCounts } from '../api';
import type { MessageFunnel } from '../model/delivery';
import { slotsOf } from '../model/graph';
import { TYPE_LABELS, untilEventType, weekdaysText, type IrNode } from '../model/ir';
import { FunnelLines } from './DeliveryFunnel';

export interface FlowNodeData extends Record<string, unknown> {
  node: IrNode;
  start: boolean;
  severity?: 'error' | 'warning';
  problems: string[]; // diagnostic messages, shown as a tooltip
  handleSeverity: Record<string, 'error' | 'warning'>;
  counts?: NodeCounts; // live view
  funnel?: MessageFunnel; // live view of a message node, when the server reports it
  variantConversions?: Record<string, number>;
  simStep?: number; // 1-based position in the simulated path
  simDimmed?: boolean;
}

export type FlowNodeType = Node<FlowNodeData, 'trellis'>;

// One line that tells what the node does, so the canvas reads without the panel.
function summary(n: IrNode): string {
  switch (n.type) {
    case 'segment':
      return n.match ? n.match : 'no condition yet';
    case 'wait': {
      const ev = untilEventType(n);
      if (n.until_time) {
        const at = `until ${n.until_time} local, ${weekdaysText(n.on_days)}`;
        return ev ? `${at}, or ${ev}` : at;
      }
      if (n.for && ev) return `${n.for} or until ${ev}`;
      if (n.for) return `for ${n.for}`;
      return ev ? `until ${ev}` : 'no timer or event yet';
    }
    case 'coupon':
      if (n.generate) return `generate ${n.generate.prefix}…`;
      return n.pool ? `from pool ${n.pool}` : 'no pool yet';
    case 'sms':
      return n.text || 'no text yet';
    case 'email':
      return n.subject || 'no subject yet';
    case 'webhook':
      return n.url || 'no url yet';
    case 'ab':
      return (n.variants ?? []).map((v) => `${v.name} ${v.weight}`).join(' / ');
    case 'exit':
      return 'end of journey';
  }
}

function FlowNodeView({ id, data, selected }: NodeProps<FlowNodeType>) {
  const n = data.node;
  const slots = slotsOf(n);
  // React Flow measures handles when a node resizes; a handle that appears without a
  // resize (a new variant, `until_event` set) needs telling, or its arrows are not drawn.
  const updateNodeInternals = useUpdateNodeInternals();
  const handleKey = slots.map((s) => s.handle).join('|');
  useEffect(() => updateNodeInternals(id), [id, handleKey, updateNodeInternals]);
  const classes = ['fnode', `fnode-${n.type}`];
  if (selected) classes.push('selected');
  if (data.severity) classes.push(`has-${data.severity}`);
  if (data.simStep) classes.push('sim-on-path');
  if (data.simDimmed) classes.push('sim-dimmed');
  return (
    <div className={classes.join(' ')} data-node={n.id} data-severity={data.severity ?? ''} title={data.problems.join('\n')}>
      <Handle type="target" position={Position.Top} id="in" className="handle-in" />
      <div className="fnode-head">
        <span className={`type-chip type-${n.type}`}>{TYPE_LABELS[n.type]}</span>
        <span className="fnode-id">{n.id}</span>
        {data.start && <span className="start-chip">start</span>}
        {data.simStep !== undefined && <span className="sim-chip">{data.simStep}</span>}
        {data.severity && (
          <span className={`diag-chip ${data.severity}`} data-testid="node-diag">
            {data.problems.length}
          </span>
        )}
      </div>
      <div className="fnode-summary">{summary(n)}</div>
      {data.counts && (
        <div className="fnode-counts" data-testid="node-counts">
          <span title="entered">
            in <b data-count="entered">{data.counts.entered}</b>
          </span>
          <span title="waiting now">
            waiting <b data-count="waiting">{data.counts.waiting}</b>
          </span>
          <span title="exited">
            out <b data-count="exited">{data.counts.exited}</b>
          </span>
        </div>
      )}
      {data.funnel && <FunnelLines funnel={data.funnel} />}
      {slots.length > 0 && (
        <div className="fnode-slots">
          {slots.map((s) => (
            <div key={s.handle} className={`slot ${data.handleSeverity[s.handle] ?? ''}`} data-slot={s.handle}>
              <span className="slot-label">
                {s.handle.startsWith('variant:') ? s.handle.slice(8) : s.label.split(' ')[0]}
                {data.variantConversions && s.handle.startsWith('variant:') && (
                  <span className="conv" data-testid="variant-conversions">
                    {' '}
                    ✓{data.variantConversions[s.handle.slice(8)] ?? 0}
                  </span>
                )}
              </span>
              <Handle
                type="source"
                position={Position.Bottom}
                id={s.handle}
                className={`handle-out ${data.handleSeverity[s.handle] ?? ''} ${s.target ? 'set' : 'unset'}`}
              />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

export const FlowNode = memo(FlowNodeView);
