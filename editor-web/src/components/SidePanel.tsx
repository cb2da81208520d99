import { Fragment, type ReactNode } from 'react';
import type { KindSchema } from '../api';
import type { MessageFunnel } from '../model/delivery';
import { diagnosticsFor, nodeLevel, plainHelp, shownMessage, type DiagnosticIndex } from '../model/diagnostics';
import { variantShare } from '../model/graph';
import { kindLabel, shownFields, type FieldSchema } from '../model/kinds';
import {
  goalParts,
  priorityChoice,
  priorityFromChoice,
  untilEventType,
  type Flow,
  type GoalSpec,
  type IrNode,
  type Variant,
} from '../model/ir';
import {
  CommitInput,
  DurationInput,
  EVENT_TYPES_LIST,
  ExpressionInput,
  Field,
  TargetSelect,
  TemplateInput,
  TextInput,
  TimeInput,
  WeekdayToggles,
} from './fields';
import { FunnelTable } from './DeliveryFunnel';
import { BranchesEditor, TraitsEditor } from './RowEditors';

export type NodeUpdate = (update: (n: IrNode) => IrNode, coalesceKey?: string) => void;

interface NodePanelProps {
  flow: Flow;
  node: IrNode;
  index: DiagnosticIndex;
  context: Record<string, unknown>;
  onUpdate: NodeUpdate;
  onRename: (to: string) => void;
  onDelete: () => void;
  onMakeStart: () => void;
  schema?: KindSchema;
  funnel?: MessageFunnel; // live delivery counts of a message node
}

export function NodePanel({ flow, node, index, context, onUpdate, onRename, onDelete, onMakeStart, schema, funnel }: NodePanelProps) {
  const id = node.id;
  const diags = (field: string) => diagnosticsFor(index, id, field);
  const targets = flow.nodes.map((n) => n.id).filter((n) => n !== id);
  const set = (field: string) => (v: string | undefined) =>
    onUpdate((n) => ({ ...n, [field]: v === '' && !['text', 'subject', 'body', 'match', 'url'].includes(field) ? undefined : v }), `${id}.${field}`);

  const field = (name: string, label: string, input: ReactNode, hint?: ReactNode) => {
    const spec = schema?.fields.find((f) => f.name === name);
    return (
      <Field name={name} label={spec?.required ? `${label} *` : label} diagnostics={diags(name)} hint={hint ?? spec?.help}>
        {input}
      </Field>
    );
  };
  const target = (name: 'next' | 'yes' | 'no' | 'on_event' | 'on_exhausted', label: string) =>
    field(name, label, <TargetSelect name={name} value={node[name]} options={targets} onChange={set(name)} />);

  let body: ReactNode = null;
  switch (node.type) {
    case 'segment':
      body = (
        <>
          {field(
            'match',
            'Match (expression)',
            <ExpressionInput name="match" value={node.match} onChange={set('match')} placeholder="a condition on user or event traits" />,
          )}
          {target('yes', 'If yes, go to')}
          {target('no', 'If no, go to')}
        </>
      );
      break;
    case 'wait': {
      const until = node.until_event;
      const where = typeof until === 'object' ? until.where : undefined;
      const setUntil = (event: string | undefined, w: string | undefined) =>
        onUpdate(
          (n) => ({ ...n, until_event: !event && !w ? undefined : w ? { event: event ?? '', where: w } : event }),
          `${id}.until_event`,
        );
      const byClock = node.until_time !== undefined;
      const setTimer = (clock: boolean) =>
        onUpdate((n) => (clock ? { ...n, for: undefined, until_time: n.until_time ?? '10:00' } : { ...n, until_time: undefined, on_days: undefined, for: n.for ?? '1d' }));
      body = (
        <>
          <div className="field" data-field="timer">
            <label>Timer</label>
            <div className="radio-row">
              <label>
                <input type="radio" name="wait-timer" value="for" checked={!byClock} onChange={() => setTimer(false)} />
                after a while
              </label>
              <label>
                <input type="radio" name="wait-timer" value="until_time" checked={byClock} onChange={() => setTimer(true)} />
                at a time of day
              </label>
            </div>
          </div>
          {!byClock && field('for', 'Wait for', <DurationInput name="for" value={node.for} onChange={set('for')} />, 'empty: wait for the event only')}
          {byClock &&
            field(
              'until_time',
              'Until (local time)',
              <TimeInput name="until_time" value={node.until_time} onChange={(v) => onUpdate((n) => ({ ...n, until_time: v }), `${id}.until_time`)} />,
              <span data-testid="timezone-note">
                In the user&apos;s own time zone: the <code>user.timezone</code> trait (e.g. Europe/Berlin), else the server&apos;s default zone.
              </span>,
            )}
          {(byClock || node.on_days) &&
            field(
              'on_days',
              'On days',
              <WeekdayToggles name="on_days" value={node.on_days} onChange={(v) => onUpdate((n) => ({ ...n, on_days: v }))} />,
              'none selected: every day',
            )}
          {field(
            'until_event',
            'Or until event',
            <TextInput name="until_event" value={untilEventType(node)} list={EVENT_TYPES_LIST} placeholder="event type" onChange={(v) => setUntil(v, where)} />,
          )}
          {untilEventType(node) &&
            field(
              'until_event.where',
              'where (expression over event.*)',
              <ExpressionInput name="until_event.where" value={where} onChange={(v) => setUntil(untilEventType(node), v || undefined)} />,
            )}
          {untilEventType(node) && target('on_event', 'When the event arrives, go to')}
          {target('next', node.for ? 'When time runs out, go to' : byClock ? 'At that time, go to' : 'Next')}
        </>
      );
      break;
    }
    case 'coupon': {
      const generate = node.generate !== undefined;
      body = (
        <>
          <div className="field" data-field="source">
            <label>Codes</label>
            <div className="radio-row">
              <label>
                <input
                  type="radio"
                  name="coupon-source"
                  checked={!generate}
                  onChange={() => onUpdate((n) => ({ ...n, generate: undefined, pool: n.pool ?? '' }))}
                />
                from a pool
              </label>
              <label>
                <input
                  type="radio"
                  name="coupon-source"
                  checked={generate}
                  onChange={() => onUpdate((n) => ({ ...n, pool: undefined, generate: { prefix: 'C-', length: 8 } }))}
                />
                generate
              </label>
            </div>
          </div>
          {!generate && field('pool', 'Pool', <TextInput name="pool" value={node.pool} onChange={set('pool')} placeholder="name of a coupon pool" />)}
          {generate && (
            <Field name="generate" label="Generate" diagnostics={diags('generate')}>
              <div className="row">
                <input
                  aria-label="prefix"
                  name="generate.prefix"
                  value={node.generate!.prefix}
                  onChange={(e) => onUpdate((n) => ({ ...n, generate: { ...n.generate!, prefix: e.target.value } }), `${id}.gp`)}
                />
                <input
                  aria-label="length"
                  name="generate.length"
                  type="number"
                  min={4}
                  max={32}
                  value={node.generate!.length}
                  onChange={(e) => onUpdate((n) => ({ ...n, generate: { ...n.generate!, length: Number(e.target.value) } }), `${id}.gl`)}
                />
              </div>
            </Field>
          )}
          {target('next', 'Then go to')}
          {target('on_exhausted', 'If no code is left, go to')}
        </>
      );
      break;
    }
    case 'sms':
      body = (
        <>
          {field('text', 'Text', <TemplateInput name="text" value={node.text} onChange={set('text')} context={context} />)}
          {target('next', 'Then go to')}
        </>
      );
      break;
    case 'email':
      body = (
        <>
          {field('subject', 'Subject', <TemplateInput name="subject" value={node.subject} onChange={set('subject')} context={context} rows={1} />)}
          {field('body', 'Body', <TemplateInput name="body" value={node.body} onChange={set('body')} context={context} rows={4} />)}
          {target('next', 'Then go to')}
        </>
      );
      break;
    case 'webhook':
      body = (
        <>
          {field('url', 'URL', <TemplateInput name="url" value={node.url} onChange={set('url')} context={context} rows={1} />)}
          {field('body', 'Body', <TemplateInput name="body" value={node.body} onChange={set('body')} context={context} rows={4} />)}
          {target('next', 'Then go to')}
        </>
      );
      break;
    case 'ab':
      body = <VariantsEditor node={node} targets={targets} index={index} onUpdate={onUpdate} />;
      break;
    case 'exit':
      body = <p className="muted">The journey ends here.</p>;
      break;
    default:
      // A kind without a form of its own: one input per field of the table, by its widget.
      // List fields get row editors (model/rows.ts), which show their rows' findings.
      body = (
        <>
          {schema?.fields.map((f) => {
            const rows = { spec: f, label: f.required ? `${f.name} *` : f.name, node, targets, index, onUpdate };
            if (f.widget === 'branches') return <BranchesEditor key={f.name} {...rows} />;
            if (f.widget === 'expressions') return <TraitsEditor key={f.name} {...rows} />;
            return <Fragment key={f.name}>{field(f.name, f.name, <GenericInput spec={f} node={node} targets={targets} context={context} onUpdate={onUpdate} />)}</Fragment>;
          })}
        </>
      );
  }

  const general = nodeLevel(index, id, shownFields(node.type));
  return (
    <div className="panel" data-testid="node-panel" data-node={id}>
      <div className="panel-title">
        <span className={`type-chip type-${node.type}`}>{kindLabel(node.type)}</span>
        <span className="panel-id">{id}</span>
        {flow.start === id ? (
          <span className="start-chip">start</span>
        ) : (
          <button type="button" className="link" onClick={onMakeStart}>
            make start
          </button>
        )}
      </div>
      {schema?.help && <p className="muted small kind-help">{plainHelp(schema.help)}</p>}
      {funnel && <FunnelTable funnel={funnel} />}
      {general.map((d, i) => (
        <div key={i} className={`banner ${d.severity}`} data-testid="node-level-diag">
          {shownMessage(d)}
        </div>
      ))}
      {field('id', 'Id', <CommitInput name="id" value={id} onCommit={onRename} />)}
      {field(
        'description',
        'Description',
        <TextInput name="description" value={node.description} onChange={set('description')} placeholder="what this step is for" />,
      )}
      {body}
      <div className="panel-actions">
        <button type="button" className="danger" onClick={onDelete}>
          Delete node
        </button>
      </div>
    </div>
  );
}

function VariantsEditor({
  node,
  targets,
  index,
  onUpdate,
}: {
  node: IrNode;
  targets: string[];
  index: DiagnosticIndex;
  onUpdate: NodeUpdate;
}) {
  const variants = node.variants ?? [];
  const setVariant = (i: number, change: Partial<Variant>, key: string) =>
    onUpdate((n) => ({ ...n, variants: (n.variants ?? []).map((v, j) => (j === i ? { ...v, ...change } : v)) }), key);
  const addVariant = () => {
    const taken = new Set(variants.map((v) => v.name));
    let name = 'a';
    for (let c = 97; taken.has(name); c++) name = String.fromCharCode(c);
    onUpdate((n) => ({ ...n, variants: [...(n.variants ?? []), { name, weight: 10 }] }));
  };
  const total = variants.reduce((s, v) => s + (v.weight || 0), 0);
  return (
    <Field name="variants" label={`Variants (total weight ${total})`} diagnostics={diagnosticsFor(index, node.id, 'variants').filter((d) => !/^variants\.[^.]+/.test(d.field ?? ''))}>
      <table className="variants">
        <thead>
          <tr>
            <th>name</th>
            <th>weight</th>
            <th>share</th>
            <th>go to</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {variants.map((v, i) => {
            const vd = diagnosticsFor(index, node.id, `variants.${v.name}`);
            return (
              <tr key={i} data-variant={v.name} className={vd.length ? `has-${vd[0].severity}` : ''}>
                <td>
                  <input
                    aria-label={`variant ${i + 1} name`}
                    name={`variants.${i}.name`}
                    value={v.name}
                    onChange={(e) => setVariant(i, { name: e.target.value }, `${node.id}.v${i}.name`)}
                  />
                </td>
                <td>
                  <input
                    aria-label={`variant ${v.name} weight`}
                    name={`variants.${v.name}.weight`}
                    type="number"
                    min={0}
                    value={Number.isFinite(v.weight) ? v.weight : ''}
                    onChange={(e) => setVariant(i, { weight: e.target.value === '' ? 0 : Number(e.target.value) }, `${node.id}.v${i}.weight`)}
                  />
                </td>
                <td className="num">{variantShare(node, v.name)}%</td>
                <td>
                  <TargetSelect
                    name={`variants.${v.name}.next`}
                    value={v.next}
                    options={targets}
                    onChange={(t) => setVariant(i, { next: t }, `${node.id}.v${i}.next`)}
                  />
                </td>
                <td>
                  <button
                    type="button"
                    className="link"
                    aria-label={`remove variant ${v.name}`}
                    onClick={() => onUpdate((n) => ({ ...n, variants: (n.variants ?? []).filter((_, j) => j !== i) }))}
                  >
                    ✕
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {variants.flatMap((v) =>
        diagnosticsFor(index, node.id, `variants.${v.name}`).map((d, i) => (
          <div key={`${v.name}${i}`} className={`field-msg ${d.severity}`} data-testid="field-diag">
            {v.name}: {shownMessage(d)}
          </div>
        )),
      )}
      <button type="button" onClick={addVariant}>
        Add variant
      </button>
    </Field>
  );
}

interface FlowPanelProps {
  flow: Flow;
  index: DiagnosticIndex;
  isNew: boolean;
  onChange: (update: (f: Flow) => Flow, coalesceKey?: string) => void;
}

// Shown when no node is selected: the flow's own settings.
export function FlowPanel({ flow, index, onChange }: FlowPanelProps) {
  const diags = (field: string) => diagnosticsFor(index, '', field);
  const reEntry = flow.re_entry ?? 'never';
  const reKind = reEntry.startsWith('after') ? 'after' : reEntry;
  const reAfter = reKind === 'after' ? reEntry.slice(5).trim() : '';
  const setTrigger = (k: 'event' | 'when' | 'key') => (v: string) =>
    onChange((f) => ({ ...f, trigger: { ...f.trigger, [k]: v || undefined, event: k === 'event' ? v : f.trigger.event } }), `flow.trigger.${k}`);
  const scheduled = flow.trigger.schedule !== undefined;
  const setSchedule = (k: 'schedule' | 'every' | 'audience') => (v: string) =>
    onChange((f) => ({ ...f, trigger: { ...f.trigger, [k]: k === 'schedule' ? v : v || undefined } }), `flow.trigger.${k}`);
  // The goal's parts as typed (spaces kept while typing); cleanFlow writes the plain
  // form when only the event is set.
  const setGoal = (k: keyof GoalSpec) => (v: string) =>
    onChange((f) => {
      const parts = { ...goalParts(f.goal), [k]: v };
      const empty = !parts.event && !parts.where && !parts.within && !parts.value;
      return { ...f, goal: empty ? undefined : parts };
    }, `flow.goal.${k}`);
  const unplaced = index.flow.filter(
    (d) => !d.field || !['flow', 'description', 'trigger', 're_entry', 'exit_on', 'goal', 'category', 'priority', 'on_cap', 'start'].includes(d.field.split('.')[0]),
  );
  const priority = priorityChoice(flow.priority);
  const setPriority = (p: Flow['priority']) => onChange((f) => ({ ...f, priority: p }), 'flow.priority');
  return (
    <div className="panel" data-testid="flow-panel">
      <div className="panel-title">
        <span className="type-chip type-flow">Flow</span>
        <span className="panel-id">{flow.flow}</span>
      </div>
      {unplaced.map((d, i) => (
        <div key={i} className={`banner ${d.severity}`}>
          {shownMessage(d)}
        </div>
      ))}
      <Field name="description" label="Description" diagnostics={diags('description')}>
        <TextInput name="description" value={flow.description} onChange={(v) => onChange((f) => ({ ...f, description: v || undefined }), 'flow.description')} />
      </Field>
      <Field name="trigger.starts" label="Starts" diagnostics={[]}>
        <select
          id="f-trigger-starts"
          name="trigger.starts"
          value={scheduled ? 'schedule' : 'event'}
          onChange={(e) =>
            onChange((f) => ({
              ...f,
              trigger: e.target.value === 'schedule' ? { event: '', schedule: '' } : { event: '' },
            }))
          }
        >
          <option value="event">on an event</option>
          <option value="schedule">on a schedule, for an audience</option>
        </select>
      </Field>
      {scheduled ? (
        <>
          <Field name="trigger.schedule" label="at (YYYY-MM-DD HH:MM)" diagnostics={diags('trigger.schedule').concat(diags('trigger').filter((d) => d.field === 'trigger'))}>
            <TextInput name="trigger.schedule" value={flow.trigger.schedule} placeholder="2026-12-24 10:00" onChange={setSchedule('schedule')} />
          </Field>
          <Field name="trigger.every" label="repeat" diagnostics={diags('trigger.every')}>
            <select id="f-trigger-every" name="trigger.every" value={flow.trigger.every ?? ''} onChange={(e) => setSchedule('every')(e.target.value)}>
              <option value="">once</option>
              <option value="day">every day</option>
              <option value="week">every week</option>
            </select>
          </Field>
          <Field name="trigger.in_user_time_zone" label="in each user's own time zone" diagnostics={diags('trigger.in_user_time_zone')}>
            <input
              id="f-trigger-in_user_time_zone"
              name="trigger.in_user_time_zone"
              type="checkbox"
              checked={!!flow.trigger.in_user_time_zone}
              onChange={(e) => onChange((f) => ({ ...f, trigger: { ...f.trigger, in_user_time_zone: e.target.checked || undefined } }))}
            />
          </Field>
          <Field name="trigger.audience" label="audience (expression)" diagnostics={diags('trigger.audience')} hint="empty: every profile">
            <ExpressionInput name="trigger.audience" value={flow.trigger.audience} onChange={setSchedule('audience')} placeholder='optional: e.g. user.tier == "vip"' />
          </Field>
        </>
      ) : (
        <>
          <Field name="trigger.event" label="Starts on event" diagnostics={diags('trigger.event').concat(diags('trigger').filter((d) => d.field === 'trigger'))}>
            <TextInput name="trigger.event" value={flow.trigger.event} list={EVENT_TYPES_LIST} placeholder="the event that starts a journey" onChange={setTrigger('event')} />
          </Field>
          <Field name="trigger.when" label="only when (expression)" diagnostics={diags('trigger.when')}>
            <ExpressionInput name="trigger.when" value={flow.trigger.when} onChange={setTrigger('when')} placeholder="optional: a condition on the event" />
          </Field>
          <Field name="trigger.key" label="one journey per (expression)" diagnostics={diags('trigger.key')} hint="empty: one per user">
            <TextInput name="trigger.key" value={flow.trigger.key} onChange={setTrigger('key')} placeholder="optional: an event field, e.g. event.order_id" />
          </Field>
        </>
      )}
      <Field name="re_entry" label="Re-entry" diagnostics={diags('re_entry')}>
        <div className="row">
          <select
            id="f-re_entry"
            name="re_entry"
            value={reKind}
            onChange={(e) => onChange((f) => ({ ...f, re_entry: e.target.value === 'after' ? 'after 7d' : e.target.value }))}
          >
            <option value="never">never</option>
            <option value="always">always</option>
            <option value="after">after a while</option>
          </select>
          {reKind === 'after' && (
            <DurationInput name="re_entry.after" value={reAfter} onChange={(v) => onChange((f) => ({ ...f, re_entry: `after ${v}` }), 'flow.re_entry')} />
          )}
        </div>
      </Field>
      <Field name="exit_on" label="Exit on events (comma-separated)" diagnostics={diags('exit_on')}>
        <TextInput
          name="exit_on"
          value={(flow.exit_on ?? []).join(', ')}
          placeholder="events that end a journey early"
          onChange={(v) =>
            onChange(
              (f) => ({ ...f, exit_on: v.split(',').map((s) => s.trim()).filter((s, i, a) => s !== '' || i < a.length - 1) }),
              'flow.exit_on',
            )
          }
        />
      </Field>
      <Field name="goal" label="Goal event (counts as a conversion)" diagnostics={diags('goal').concat(diags('goal.event'))}>
        <TextInput name="goal" value={goalParts(flow.goal).event} list={EVENT_TYPES_LIST} onChange={setGoal('event')} />
      </Field>
      {goalParts(flow.goal).event && (
        <>
          <Field name="goal.within" label="Counts within (from the journey's start)" diagnostics={diags('goal.within')} hint="e.g. 7d; empty: the server's default window">
            <TextInput name="goal.within" value={goalParts(flow.goal).within ?? ''} onChange={setGoal('within')} placeholder="7d" />
          </Field>
          <Field name="goal.where" label="Only when (condition on the goal event)" diagnostics={diags('goal.where')}>
            <ExpressionInput name="goal.where" value={goalParts(flow.goal).where ?? ''} onChange={setGoal('where')} placeholder='event.total > 0' />
          </Field>
          <Field name="goal.value" label="Revenue (value of the goal event)" diagnostics={diags('goal.value')}>
            <ExpressionInput name="goal.value" value={goalParts(flow.goal).value ?? ''} onChange={setGoal('value')} placeholder="event.revenue" />
          </Field>
        </>
      )}
      <Field name="category" label="Category" diagnostics={diags('category')} hint="transactional: order and account messages; frequency caps and quiet hours do not apply">
        <select
          id="f-category"
          name="category"
          value={flow.category ?? ''}
          onChange={(e) => onChange((f) => ({ ...f, category: e.target.value || undefined }))}
        >
          <option value="">marketing (default)</option>
          <option value="marketing">marketing</option>
          <option value="transactional">transactional</option>
          {flow.category && !['marketing', 'transactional'].includes(flow.category) && <option value={flow.category}>{flow.category} (invalid)</option>}
        </select>
      </Field>
      <Field name="priority" label="Priority" diagnostics={diags('priority')} hint="among one user's deferred messages, the highest goes first">
        <div className="row">
          <select
            id="f-priority"
            name="priority"
            value={priority.kind}
            onChange={(e) => {
              const kind = e.target.value as ReturnType<typeof priorityChoice>['kind'];
              setPriority(priorityFromChoice(kind === 'number' ? { kind, value: '50' } : { kind }));
            }}
          >
            <option value="default">normal (default)</option>
            <option value="high">high</option>
            <option value="normal">normal</option>
            <option value="low">low</option>
            <option value="number">a number 0–100</option>
          </select>
          {priority.kind === 'number' && (
            <input
              aria-label="priority number"
              name="priority.number"
              type="number"
              min={0}
              max={100}
              step={1}
              value={priority.value}
              onChange={(e) => setPriority(e.target.value)}
            />
          )}
        </div>
      </Field>
      <Field name="on_cap" label="Over a frequency cap" diagnostics={diags('on_cap')}>
        <select id="f-on_cap" name="on_cap" value={flow.on_cap ?? ''} onChange={(e) => onChange((f) => ({ ...f, on_cap: e.target.value || undefined }))}>
          <option value="">defer (default)</option>
          <option value="defer">defer until the cap allows</option>
          <option value="skip">skip the message</option>
          {flow.on_cap && !['defer', 'skip'].includes(flow.on_cap) && <option value={flow.on_cap}>{flow.on_cap} (invalid)</option>}
        </select>
      </Field>
      <Field name="start" label="Start node" diagnostics={diags('start')}>
        <TargetSelect name="start" value={flow.start} options={flow.nodes.map((n) => n.id)} onChange={(v) => onChange((f) => ({ ...f, start: v }))} />
      </Field>
    </div>
  );
}

// One field of a kind the panel has no form for, edited with the widget the table names.
function GenericInput({
  spec,
  node,
  targets,
  context,
  onUpdate,
}: {
  spec: FieldSchema;
  node: IrNode;
  targets: string[];
  context: Record<string, unknown>;
  onUpdate: NodeUpdate;
}) {
  const name = spec.name;
  const value = node[name];
  const text = typeof value === 'string' ? value : undefined;
  const set = (v: unknown) => onUpdate((n) => ({ ...n, [name]: v === '' && !spec.required ? undefined : v }), `${node.id}.${name}`);
  switch (spec.widget) {
    case 'expression':
      return <ExpressionInput name={name} value={text} onChange={set} />;
    case 'template':
      return <TemplateInput name={name} value={text} onChange={set} context={context} />;
    case 'target':
      return <TargetSelect name={name} value={text} options={targets} onChange={set} />;
    case 'duration':
      return <DurationInput name={name} value={text} onChange={set} />;
    case 'time':
      return <TimeInput name={name} value={text} onChange={set} />;
    case 'weekdays':
      return <WeekdayToggles name={name} value={Array.isArray(value) ? (value as string[]) : undefined} onChange={set} />;
    case 'event':
      return <TextInput name={name} value={text} list={EVENT_TYPES_LIST} placeholder="event type" onChange={set} />;
    case 'string':
      return <TextInput name={name} value={text} onChange={set} />;
    default:
      // A structured value (a list, a mapping): edited as JSON text, kept when it parses.
      return <JsonInput name={name} value={value} onChange={set} />;
  }
}

function JsonInput({ name, value, onChange }: { name: string; value: unknown; onChange: (v: unknown) => void }) {
  return (
    <CommitInput
      name={name}
      value={value === undefined ? '' : JSON.stringify(value)}
      onCommit={(t) => {
        if (t.trim() === '') return onChange(undefined);
        try {
          onChange(JSON.parse(t));
        } catch {
          // not JSON yet: the old value stays
        }
      }}
    />
  );
}
