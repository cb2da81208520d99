// POST /v1/flows/{name}/replay (docs/http-api.md#post-v1flowsnamereplay): last week's
// retained events run through the draft and the live version. This file reads the
// answer into the shapes the Replay panel shows: the two sides' totals side by side,
// messages by node and channel with the change, and the users whose path differs.

import type { TraceStep } from './results';

type Obj = Record<string, unknown>;

export interface ReplayMessages {
  node: string;
  channel: string;
  messages: number;
}

export interface ReplaySide {
  version: number | null; // null: the draft
  journeys: number;
  live: number;
  conversions: number;
  messages: ReplayMessages[];
}

export interface ReplayJourney {
  flow: string;
  state: string;
  node: string;
  steps: (TraceStep & { input: string })[];
}

export interface ReplayUser {
  user: string;
  live: ReplayJourney[];
  draft: ReplayJourney[];
}

export interface ReplayResult {
  from: string;
  to: string;
  events: number;
  users: number;
  live: ReplaySide;
  draft: ReplaySide;
  differingUsers: number;
  sample: ReplayUser[];
}

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
const list = (x: unknown): Obj[] => (Array.isArray(x) ? (x.filter((v) => v && typeof v === 'object') as Obj[]) : []);

function sideFromJson(x: unknown): ReplaySide {
  const s = (x ?? {}) as Obj;
  return {
    version: typeof s.version === 'number' ? s.version : null,
    journeys: num(s.journeys),
    live: num(s.live),
    conversions: num(s.conversions),
    messages: list(s.messages).map((m) => ({ node: String(m.node ?? ''), channel: String(m.channel ?? ''), messages: num(m.messages) })),
  };
}

function journeysFromJson(x: unknown): ReplayJourney[] {
  return list(x).map((j) => ({
    flow: String(j.flow ?? ''),
    state: String(j.state ?? ''),
    node: String(j.node ?? ''),
    steps: list(j.steps).map((s) => ({
      seq: num(s.seq),
      node: String(s.node ?? ''),
      input: String(s.input ?? ''),
      at: String(s.at ?? ''),
      reason: String(s.reason ?? ''),
    })),
  }));
}

export function replayFromJson(json: unknown): ReplayResult {
  const r = (json ?? {}) as Obj;
  return {
    from: String(r.from ?? ''),
    to: String(r.to ?? ''),
    events: num(r.events),
    users: num(r.users),
    live: sideFromJson(r.live),
    draft: sideFromJson(r.draft),
    differingUsers: num(r.differing_users),
    sample: list(r.sample).map((u) => ({ user: String(u.user_id ?? ''), live: journeysFromJson(u.live), draft: journeysFromJson(u.draft) })),
  };
}

export interface ComparedRow {
  label: string; // "journeys", "conversions", "sms from remind"
  live: number;
  draft: number;
  change: string; // "+1", "−2", "" when equal
}

function change(live: number, draft: number): string {
  if (live === draft) return '';
  return draft > live ? `+${draft - live}` : `−${live - draft}`;
}

// The rows of the comparison table: totals first, then messages by node and channel
// (the union of both sides, in the order the live side lists them, then the draft's new ones).
export function comparedRows(r: ReplayResult): ComparedRow[] {
  const rows: ComparedRow[] = [
    { label: 'journeys', live: r.live.journeys, draft: r.draft.journeys, change: change(r.live.journeys, r.draft.journeys) },
    { label: 'conversions', live: r.live.conversions, draft: r.draft.conversions, change: change(r.live.conversions, r.draft.conversions) },
  ];
  const key = (m: ReplayMessages) => `${m.channel} from ${m.node}`;
  const keys: string[] = [];
  for (const m of [...r.live.messages, ...r.draft.messages]) if (!keys.includes(key(m))) keys.push(key(m));
  for (const k of keys) {
    const live = r.live.messages.filter((m) => key(m) === k).reduce((s, m) => s + m.messages, 0);
    const draft = r.draft.messages.filter((m) => key(m) === k).reduce((s, m) => s + m.messages, 0);
    rows.push({ label: k, live, draft, change: change(live, draft) });
  }
  return rows;
}

// A journey's path in a few words: "pick → wait_pay → remind → done (completed)".
export function pathText(j: ReplayJourney): string {
  const nodes: string[] = [];
  for (const s of j.steps) if (nodes[nodes.length - 1] !== s.node) nodes.push(s.node);
  return `${nodes.join(' → ')} (${j.state})`;
}

export type ReplayPeriod = '24h' | '7d' | '30d';

// The request body: the editor's draft as IR JSON, over the last `period`.
export function replayRequestBody(draft: unknown, period: ReplayPeriod, sample = 10): Obj {
  return { last: period, draft, sample };
}

// The server's error in words a marketer can act on.
export function replayErrorText(error: string, detail?: string): string {
  switch (error) {
    case 'replay_running':
      return 'Another replay is running on this server; try again in a moment.';
    case 'replay_too_large':
      return `Too many events in this period to replay at once${detail ? ` (${detail})` : ''}; choose a shorter period.`;
    case 'replay_limit':
      return `The replay took too long${detail ? ` (${detail})` : ''}; choose a shorter period.`;
    case 'invalid_flow':
      return 'The draft has errors: fix them before replaying it.';
    case 'unknown_flow':
      return 'Deploy the flow first: a replay compares the draft with the live version.';
    default:
      return detail ?? error;
  }
}
