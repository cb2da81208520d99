import { Handle, Position, useUpdateNodeInternals, type NodeProps, type Node } from '@xyflow/react';
import { memo, useEffect, useRef } from 'react';
import type { NodeCounts } from '../api';
import { boxFigures, type VariantFigures } from '../model/live';
import type { MessageFunnel } from '../model/delivery';
import { slotsOf } from '../model/graph';
import { untilEventType, weekdaysText, type IrNode } from '../model/ir';
import { kindOf } from '../model/kinds';
import { FunnelLines } from './DeliveryFunnel';
import { percent, type FunnelFigure } from '../model/results';

export interface FlowNodeData extends Record<string, unknown> {
  node: IrNode;
  start: boolean;
  label: string; // the kind's label from the server's table ("A/B split")
  severity?: 'error' | 'warning';
  problems: string[]; // diagnostic messages, shown as a tooltip
  handleSeverity: Record<string, 'error' | 'warning'>;
  counts?: NodeCounts; // live view
  funnel?: MessageFunnel; // live view of a message node, when the server reports it
  variantFigures?: VariantFigures[]; // live view of an A/B node
  simStep?: number; // 1-based position in the simulated path
  simDimmed?: boolean;
  funnelFigure?: FunnelFigure; // results view: journeys that reached this box
  convertedAfter?: number; // results view: conversions whose last message came from this box
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
    default:
      return genericSummary(n);
  }
}

// A kind without a summary of its own: its first field with a text value, else its help line.
function genericSummary(n: IrNode): string {
  for (const f of kindOf(n.type)?.fields ?? []) {
    const v = n[f.name];
    if (f.widget !== 'target' && typeof v === 'string' && v !== '') return v;
  }
  return kindOf(n.type)?.help ?? '';
}

// The same three figures on every box (and journeys that ended there, when any did).
function LiveCounts({ counts }: { counts: NodeCounts }) {
  const f = boxFigures(counts);
  return (
    <div className="fnode-counts" data-testid="node-counts">
      <span title="journeys that entered this step">
        entered <b data-count="entered">{f.entered}</b>
      </span>
      <span title="journeys waiting here now">
        waiting <b data-count="waiting">{f.waiting}</b>
      </span>
      <span title="journeys that went on to the next step">
        passed <b data-count="passed">{f.passed}</b>
      </span>
      {f.ended > 0 && (
        <span title="journeys that ended here (exit, exit event or failure)">
          ended <b data-count="ended">{f.ended}</b>
        </span>
      )}
    </div>
  );
}

function FlowNodeView({ id, data, selected }: NodeProps<FlowNodeType>) {
  const n = data.node;
  const slots = slotsOf(n);
  // React Flow measures handles when a node resizes; a handle that appears without a
  // resize (a new variant, `until_event` set) needs telling, or its arrows are not drawn.
  // Not on the first drawing: React Flow measures a new box itself, and 61 boxes each
  // asking again made opening a large flow measure every box twice.
  const updateNodeInternals = useUpdateNodeInternals();
  const handleKey = slots.map((s) => s.handle).join('|');
  const drawnKey = useRef(handleKey);
  useEffect(() => {
    if (drawnKey.current === handleKey) return;
    drawnKey.current = handleKey;
    updateNodeInternals(id);
  }, [id, handleKey, updateNodeInternals]);
  const classes = ['fnode', `fnode-${n.type}`];
  if (selected) classes.push('selected');
  if (data.severity) classes.push(`has-${data.severity}`);
  if (data.simStep) classes.push('sim-on-path');
  if (data.simDimmed) classes.push('sim-dimmed');
  return (
    <div className={classes.join(' ')} data-node={n.id} data-severity={data.severity ?? ''} title={data.problems.join('\n')}>
      <Handle type="target" position={Position.Top} id="in" className="handle-in" />
      <div className="fnode-head">
        <span className={`type-chip type-${n.type}`}>{data.label}</span>
        <span className="fnode-id">{n.id}</span>
        {data.start && <span className="start-chip">start</span>}
        {data.simStep !== undefined && <span className="sim-chip">{data.simStep}</span>}
        {data.severity && (
          <span className={`diag-chip ${data.severity}`} data-testid="node-diag">
            {data.problems.length}
          </span>
        )}
      </div>
      <div className="fnode-summary" title={summary(n)}>
        {summary(n)}
      </div>
      {data.counts && <LiveCounts counts={data.counts} />}
      {data.funnelFigure && (
        <div className="fnode-funnel" data-testid="node-funnel-reached" title="journeys that reached this step, and their share of all journeys started">
          <div className="funnel-bar" style={{ width: `${Math.min(100, data.funnelFigure.share * 100)}%` }} />
          <span>
            reached <b data-count="reached">{data.funnelFigure.reached}</b> · <span data-count="share">{percent(data.funnelFigure.share)}</span>
          </span>
          {data.convertedAfter !== undefined && data.convertedAfter > 0 && (
            <span title="conversions whose last message before them came from this step">
              {' '}
              · <b data-count="converted-after">{data.convertedAfter}</b> converted after
            </span>
          )}
        </div>
      )}
      {data.variantFigures && (
        <table className="fnode-variants" data-testid="variant-stats">
          <tbody>
            {data.variantFigures.map((v) => (
              <tr key={v.variant} data-variant={v.variant}>
                <td className="variant-name">{v.variant}</td>
                <td title="journeys that took this variant">
                  <b data-count="journeys">{v.journeys}</b> journeys
                </td>
                <td title={`${v.conversions} conversions of ${v.journeys} journeys`}>
                  <b data-count="rate">{v.rate}</b> conv.
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data.funnel && <FunnelLines funnel={data.funnel} />}
      {slots.length > 0 && (
        <div className="fnode-slots">
          {slots.map((s) => (
            <div key={s.handle} className={`slot ${data.handleSeverity[s.handle] ?? ''}`} data-slot={s.handle}>
              <span className="slot-label">
                {s.handle.startsWith('variant:') ? s.handle.slice(8) : s.label.split(' ')[0]}
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
