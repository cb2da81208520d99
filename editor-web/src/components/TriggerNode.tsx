import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { Flow } from '../model/ir';
import { TRIGGER_HANDLE } from '../model/layout';

export interface TriggerNodeData extends Record<string, unknown> {
  trigger: Flow['trigger'];
  entered?: number; // live view: journeys started
}

export type TriggerNodeType = Node<TriggerNodeData, 'trigger'>;

// What the start box says: the event and its condition, or a broadcast's time,
// repetition and audience.
export function triggerText(t: Flow['trigger']): string {
  if (t.schedule !== undefined) {
    const zone = t.in_user_time_zone ? " in each user's time" : '';
    const every = t.every ? `, every ${t.every}` : '';
    const who = t.audience ? ` for ${t.audience}` : ' for every profile';
    return `at ${t.schedule || '…'}${zone}${every}${who}`;
  }
  return t.event ? `when ${t.event}${t.when ? ` and ${t.when}` : ''}` : 'no trigger event yet';
}

// The entry box of the canvas: what starts a journey. Its arrow goes to the start node;
// dragging a new arrow from it to another box makes that box the start.
function TriggerNodeView({ data }: NodeProps<TriggerNodeType>) {
  const t = data.trigger;
  const text = triggerText(t);
  return (
    <div className="fnode fnode-trigger" data-node="trigger" title={text}>
      <div className="fnode-head">
        <span className="type-chip type-trigger">Trigger</span>
        <span className="fnode-id">{t.schedule !== undefined ? 'schedule' : t.event || '…'}</span>
      </div>
      <div className="fnode-summary">{text}</div>
      {data.entered !== undefined && (
        <div className="fnode-counts" data-testid="trigger-counts">
          <span>
            started <b data-count="started">{data.entered}</b>
          </span>
        </div>
      )}
      <div className="fnode-slots">
        <div className="slot" data-slot={TRIGGER_HANDLE}>
          <span className="slot-label">start</span>
          <Handle type="source" position={Position.Bottom} id={TRIGGER_HANDLE} className="handle-out set" />
        </div>
      </div>
    </div>
  );
}

export const TriggerNode = memo(TriggerNodeView);
