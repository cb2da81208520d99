// What a deploy changes, in words: the running version's IR against the flow about to
// be deployed. Steps added and removed, and each changed field of a step or of the
// flow with its old and new value ("mail: subject "Hi" → "Hello"").
import { cleanFlow, type Flow, type IrNode } from './ir';
import { kindLabel } from './kinds';

export interface Change {
  kind: 'added' | 'removed' | 'changed';
  node?: string; // absent for the flow's own settings
  text: string;
}

const FIELD_WORDS: Record<string, string> = {
  next: 'next step',
  yes: 'yes branch',
  no: 'no branch',
  on_event: 'event branch',
  on_exhausted: 'when coupons run out',
  for: 'wait time',
  until_event: 'waits for event',
  until_time: 'waits until',
  on_days: 'days',
  match: 'condition',
  text: 'text',
  subject: 'subject',
  body: 'body',
  pool: 'coupon pool',
  url: 'url',
  'trigger.event': 'trigger event',
  'trigger.when': 'trigger condition',
  'trigger.key': 'one journey per',
  exit_on: 'exit events',
  goal: 'goal',
  'goal.event': 'goal',
  'goal.where': 'goal condition',
  'goal.within': 'goal window',
  'goal.value': 'goal value',
  start: 'start step',
  re_entry: 're-entry',
  description: 'description',
  comments: 'comments',
  field_comments: 'comments',
};

// Keys that never change what runs, or that the editor keeps for itself.
const IGNORED = new Set(['span', 'nodes', 'flow']);

function words(path: string): string {
  if (FIELD_WORDS[path]) return FIELD_WORDS[path];
  const v = /^variants\.([^.]+)\.(weight|next)$/.exec(path);
  if (v) return `variant ${v[1]} ${v[2] === 'weight' ? 'weight' : 'next step'}`;
  return path.replace(/_/g, ' ');
}

function shown(v: unknown): string {
  if (v === undefined || v === null || v === '') return 'nothing';
  const s = typeof v === 'string' ? `"${v}"` : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 48 ? `${s.slice(0, 47)}…` : s;
}

// Flattens an object to dotted paths; A/B variants by name so reordering is no change
// and a variant's weight reads as its own field.
function flatten(o: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (IGNORED.has(k) && prefix === '') continue;
    const path = prefix + k;
    if (k === 'goal' && typeof v === 'string' && prefix === '') {
      out['goal.event'] = v; // the plain form and {event} are the same goal
    } else if (k === 'variants' && Array.isArray(v) && prefix === '') {
      for (const variant of v as { name: string; weight: number; next?: string }[]) {
        out[`variants.${variant.name}.weight`] = variant.weight;
        out[`variants.${variant.name}.next`] = variant.next;
      }
    } else if (k === 'comments' || k === 'field_comments' || k === 'on_days' || k === 'exit_on') {
      out[path] = JSON.stringify(v);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      flatten(v as Record<string, unknown>, `${path}.`, out);
    } else {
      out[path] = v;
    }
  }
  return out;
}

function fieldChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const out: string[] = [];
  for (const path of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
    if (JSON.stringify(a[path]) === JSON.stringify(b[path])) continue;
    const was = path.includes('comments') ? undefined : a[path];
    const now = path.includes('comments') ? undefined : b[path];
    if (path.includes('comments')) out.push('comments edited');
    else if (/^variants\.[^.]+\.weight$/.test(path) && a[path] === undefined) out.push(`variant ${path.split('.')[1]} added`);
    else if (/^variants\.[^.]+\.weight$/.test(path) && b[path] === undefined) out.push(`variant ${path.split('.')[1]} removed`);
    else if (/^variants\./.test(path) && (a[path.replace(/next$/, 'weight')] === undefined || b[path.replace(/next$/, 'weight')] === undefined)) continue;
    else out.push(`${words(path)} ${shown(was)} → ${shown(now)}`);
  }
  return [...new Set(out)];
}

const label = (n: IrNode) => `${kindLabel(n.type)} ${n.id}`;

// `running` null: the flow was never deployed.
export function describeChanges(running: Flow | null, next: Flow): Change[] {
  const after = cleanFlow(next);
  if (!running) return [{ kind: 'added', text: `first version, ${after.nodes.length} step${after.nodes.length === 1 ? '' : 's'}` }];
  const before = cleanFlow(running);
  const changes: Change[] = [];
  for (const text of fieldChanges(before as unknown as Record<string, unknown>, after as unknown as Record<string, unknown>)) {
    changes.push({ kind: 'changed', text: `flow: ${text}` });
  }
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  for (const n of after.nodes) if (!old.has(n.id)) changes.push({ kind: 'added', node: n.id, text: `added ${label(n)}` });
  for (const n of before.nodes) if (!now.has(n.id)) changes.push({ kind: 'removed', node: n.id, text: `removed ${label(n)}` });
  for (const n of after.nodes) {
    const o = old.get(n.id);
    if (!o) continue;
    if (o.type !== n.type) {
      changes.push({ kind: 'changed', node: n.id, text: `${n.id}: now ${kindLabel(n.type)} instead of ${kindLabel(o.type)}` });
      continue;
    }
    for (const text of fieldChanges(o as unknown as Record<string, unknown>, n as unknown as Record<string, unknown>)) {
      changes.push({ kind: 'changed', node: n.id, text: `${n.id}: ${text}` });
    }
  }
  return changes;
}
