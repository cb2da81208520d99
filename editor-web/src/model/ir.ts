// The flow IR as JSON (docs/ir-json.md): what the HTTP API sends and accepts.
// Expressions, templates and durations stay source text; the server parses them.

// A node kind's name ("segment", "wait", ...). The kinds and their fields come
// from the server's table (model/kinds.ts); the fields named below are the
// ones the editor's own forms know.
export type NodeType = string;

export interface Variant {
  name: string;
  weight: number;
  next?: string;
  comments?: string[];
  trailing_comment?: string;
}

export interface EventFilter {
  event: string;
  where?: string;
}

export interface IrNode {
  id: string;
  type: NodeType;
  description?: string;
  comments?: string[];
  field_comments?: Record<string, string>;
  // Comment lines above a field's line, by field name; kept so Save writes them back.
  leading_comments?: Record<string, string[]>;
  span?: { line: number; column: number };
  // segment
  match?: string;
  yes?: string;
  no?: string;
  // wait
  for?: string;
  until_time?: string; // "HH:MM" on the user's own clock (user.timezone)
  on_days?: string[]; // "mon".."sun", with until_time; every day when absent
  until_event?: string | EventFilter;
  on_event?: string;
  // coupon
  pool?: string;
  generate?: { prefix: string; length: number };
  on_exhausted?: string;
  // sms, email, webhook
  text?: string;
  subject?: string;
  body?: string;
  url?: string;
  // ab
  variants?: Variant[];
  next?: string;
  // Fields of kinds the editor has no form of its own for (model/kinds.ts).
  [field: string]: unknown;
}

export interface Trigger {
  event: string;
  when?: string;
  key?: string;
  // A broadcast (docs/flows.md#broadcasts): a schedule for an audience instead of an event.
  schedule?: string; // "YYYY-MM-DD HH:MM"
  audience?: string;
  every?: string; // 'day' | 'week'
  in_user_time_zone?: boolean;
}

export interface Flow {
  flow: string;
  description?: string;
  comments?: string[];
  field_comments?: Record<string, string>;
  leading_comments?: Record<string, string[]>;
  closing_comments?: string[]; // after the last node
  trigger: Trigger;
  re_entry?: string;
  exit_on?: string[];
  goal?: Goal;
  // Governed delivery (docs/ir-json.md); absent means the default.
  category?: string; // 'marketing' | 'transactional'
  priority?: string | number; // 'high' | 'normal' | 'low' | '0'..'100'
  on_cap?: string; // 'defer' | 'skip'
  start?: string;
  nodes: IrNode[];
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// `on_days` with `day` switched on or off, in week order; undefined when no day is
// left (the wait then counts every day, as a flow file without on_days does).
export function toggleWeekday(days: readonly string[] | undefined, day: Weekday): Weekday[] | undefined {
  const set = new Set(days ?? []);
  if (set.has(day)) set.delete(day);
  else set.add(day);
  const out = WEEKDAYS.filter((d) => set.has(d));
  return out.length ? out : undefined;
}

// "mon–fri", "sat, sun", "every day": for the canvas and arrow labels.
export function weekdaysText(days: readonly string[] | undefined): string {
  const known = WEEKDAYS.filter((d) => days?.includes(d));
  if (!days || days.length === 0 || known.length === 7) return 'every day';
  const run = known.length > 2 && WEEKDAYS.indexOf(known[known.length - 1]) - WEEKDAYS.indexOf(known[0]) === known.length - 1;
  if (run && known.length === days.length) return `${known[0]}–${known[known.length - 1]}`;
  return days.join(', ');
}

// The flow settings panel's priority: a named level, a number, or the default.
export type PriorityChoice = { kind: 'default' | 'high' | 'normal' | 'low' } | { kind: 'number'; value: string };

export function priorityChoice(priority: Flow['priority']): PriorityChoice {
  if (priority === undefined || priority === '') return { kind: 'default' };
  const text = String(priority);
  if (text === 'high' || text === 'normal' || text === 'low') return { kind: text };
  return { kind: 'number', value: text };
}

export function priorityFromChoice(choice: PriorityChoice): Flow['priority'] {
  if (choice.kind === 'default') return undefined;
  return choice.kind === 'number' ? choice.value : choice.kind;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  file?: string;
  line?: number;
  column?: number;
  length?: number;
  message: string; // precise, as the CLI prints it
  node?: string;
  field?: string;
  code?: string; // the kind of problem, for the checker's findings
  plain?: string; // the server's sentence for a marketer ("Connect 'Wait 1' to the next step.")
}

export function emptyFlow(name: string): Flow {
  return { flow: name, trigger: { event: '' }, re_entry: 'never', nodes: [] };
}

// The first free id of the form `<type>_<n>` (`done` is kept for exits people name by hand).
export function freshId(flow: Flow, type: NodeType): string {
  const taken = new Set(flow.nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${type}_${i}`;
    if (!taken.has(id)) return id;
  }
}

export function untilEventType(node: IrNode): string | undefined {
  const u = node.until_event;
  if (u === undefined) return undefined;
  return typeof u === 'string' ? u : u.event;
}

// Removes keys whose value is undefined or an empty string, so JSON sent to the
// server carries only what the user set (absent optional fields are omitted).
export function cleanNode(node: IrNode): IrNode {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (v === undefined || k === 'span') continue;
    if (k === 'on_days' && Array.isArray(v) && v.length === 0) continue;
    if (v === '' && k !== 'id' && !TEXT_FIELDS.has(k)) continue;
    out[k] = v;
  }
  return out as unknown as IrNode;
}

// Fields whose empty value is still meaningful to send (an empty message text is
// something the checker should report on, not silently drop).
const TEXT_FIELDS = new Set(['match', 'text', 'subject', 'body', 'url', 'pool']);

// A flow's goal (docs/results.md): an event type alone, or with a `where` condition,
// a `within` window from the journey's entry and a `value` expression for revenue.
export interface GoalSpec {
  event: string;
  where?: string;
  within?: string;
  value?: string;
}
export type Goal = string | GoalSpec;

export function goalParts(goal: Goal | undefined): GoalSpec {
  if (typeof goal === 'string') return { event: goal };
  return goal ? { ...goal } : { event: '' };
}

// The goal as files write it: the plain event type when nothing else is set.
export function goalFrom(parts: GoalSpec): Goal | undefined {
  const out: GoalSpec = { event: parts.event.trim() };
  for (const k of ['where', 'within', 'value'] as const) {
    const v = parts[k]?.trim();
    if (v) out[k] = v;
  }
  if (!out.where && !out.within && !out.value) return out.event || undefined;
  return out;
}

export function cleanFlow(flow: Flow): Flow {
  const out: Flow = { ...flow, nodes: flow.nodes.map(cleanNode) };
  if (out.goal !== undefined) out.goal = goalFrom(goalParts(out.goal));
  for (const k of ['description', 're_entry', 'goal', 'category', 'priority', 'on_cap', 'start'] as const) {
    if (out[k] === undefined || out[k] === '') delete out[k];
  }
  if (out.exit_on) out.exit_on = out.exit_on.map((e) => e.trim()).filter((e) => e !== '');
  if (out.exit_on && out.exit_on.length === 0) delete out.exit_on;
  const t: Trigger = { event: flow.trigger.event };
  if (flow.trigger.when) t.when = flow.trigger.when;
  if (flow.trigger.key) t.key = flow.trigger.key;
  if (flow.trigger.schedule !== undefined) t.schedule = flow.trigger.schedule;
  if (flow.trigger.audience) t.audience = flow.trigger.audience;
  if (flow.trigger.every) t.every = flow.trigger.every;
  if (flow.trigger.in_user_time_zone) t.in_user_time_zone = true;
  out.trigger = t;
  return out;
}
