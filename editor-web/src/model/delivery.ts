// Governed delivery as the editor shows it: what became of a message node's
// messages in production (the funnel from GET /v1/flows/{name}/stats) and of a
// simulated message (sent, deferred by a cap or quiet hours, suppressed for lack of
// consent, dropped). Pure: parsing and wording only, unit-tested.

type Obj = Record<string, unknown>;

// The delivery statuses a message node's messages are counted by, then the
// provider's feedback (each a count of deliveries that got it at least once).
export const STATUS_COUNTS = ['created', 'sent', 'deferred', 'suppressed', 'dropped', 'dead'] as const;
export const FEEDBACK_COUNTS = ['delivered', 'opened', 'clicked', 'bounced', 'complained'] as const;
export type FunnelCount = (typeof STATUS_COUNTS)[number] | (typeof FEEDBACK_COUNTS)[number];

export type MessageFunnel = { node: string; channel: string } & Record<FunnelCount, number>;

export const MESSAGE_NODE_TYPES: readonly string[] = ['sms', 'email', 'webhook'];

export function emptyFunnel(node: string, channel: string): MessageFunnel {
  const f = { node, channel } as MessageFunnel;
  for (const k of [...STATUS_COUNTS, ...FEEDBACK_COUNTS]) f[k] = 0;
  return f;
}

function count(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

// `messages: [{node, channel, created, sent, deferred, ...}]` of the stats, keyed by
// node; undefined when the server does not report them (older than governed delivery).
export function messageFunnelsFromJson(json: unknown): Record<string, MessageFunnel> | undefined {
  if (!Array.isArray(json)) return undefined;
  const out: Record<string, MessageFunnel> = {};
  for (const m of json as Obj[]) {
    if (!m || typeof m !== 'object' || typeof m.node !== 'string') continue;
    const f = emptyFunnel(m.node, typeof m.channel === 'string' ? m.channel : '');
    for (const k of [...STATUS_COUNTS, ...FEEDBACK_COUNTS]) f[k] = count(m[k]);
    out[m.node] = f;
  }
  return out;
}

export interface FunnelFigure {
  key: FunnelCount;
  count: number;
}

// The two lines on a message box: how far the messages got (sent always, then
// delivered, opened and clicked once any), and, muted, what held them back or went
// wrong (only the non-zero ones).
export function funnelLines(f: MessageFunnel): { progress: FunnelFigure[]; setbacks: FunnelFigure[] } {
  const figure = (key: FunnelCount): FunnelFigure => ({ key, count: f[key] });
  const progress = [figure('sent'), ...(['delivered', 'opened', 'clicked'] as const).map(figure).filter((x) => x.count > 0)];
  const setbacks = (['deferred', 'suppressed', 'dropped', 'dead', 'bounced', 'complained'] as const).map(figure).filter((x) => x.count > 0);
  return { progress, setbacks };
}

export function figuresText(figures: FunnelFigure[]): string {
  return figures.map((x) => `${x.key} ${x.count}`).join(' · ');
}

export interface FunnelRow {
  key: FunnelCount | 'queued';
  count: number;
  share: string; // of `of`, e.g. "98%"; "–" when there is nothing to divide by
  of: 'created' | 'sent';
  meaning: string;
}

const MEANING: Record<FunnelRow['key'], string> = {
  created: 'messages the node produced',
  sent: 'handed to the provider',
  queued: 'released, not yet handed to the provider',
  deferred: 'held by a frequency cap or quiet hours, to be sent later',
  suppressed: 'not sent: the user has no consent for the channel',
  dropped: 'not sent: capped with on_cap skip, or deferred too long',
  dead: 'the provider refused it after every retry',
  delivered: 'the provider reported it delivered',
  opened: 'opened by the user',
  clicked: 'a link in it was clicked',
  bounced: 'bounced',
  complained: 'the user reported it as spam',
};

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  const p = (100 * part) / whole;
  return `${p >= 10 || Number.isInteger(p) ? Math.round(p) : p.toFixed(1)}%`;
}

// The side panel's full table: statuses as shares of the messages created, feedback
// as shares of the messages sent. `queued` (created, released, not sent yet) is what
// no status count covers, shown only when there is some.
export function funnelTable(f: MessageFunnel): FunnelRow[] {
  const queued = Math.max(0, f.created - f.sent - f.deferred - f.suppressed - f.dropped - f.dead);
  const row = (key: FunnelRow['key'], n: number, of: FunnelRow['of']): FunnelRow => ({
    key,
    count: n,
    of,
    share: key === 'created' ? '' : percent(n, of === 'created' ? f.created : f.sent),
    meaning: MEANING[key],
  });
  const rows: FunnelRow[] = [row('created', f.created, 'created'), row('sent', f.sent, 'created')];
  if (queued > 0) rows.push(row('queued', queued, 'created'));
  for (const k of ['deferred', 'suppressed', 'dropped', 'dead'] as const) rows.push(row(k, f[k], 'created'));
  for (const k of FEEDBACK_COUNTS) rows.push(row(k, f[k], 'sent'));
  return rows;
}

// ---- simulated messages ----------------------------------------------------

// What became of one simulated message by the end of the run.
export type SimOutcome = 'sent' | 'sent-late' | 'deferred' | 'suppressed' | 'dropped' | 'failed';

// "0s", "72h", "26h30m", "1d2h" (the simulator's offsets) → seconds; null otherwise.
export function offsetSeconds(text: string | undefined): number | null {
  if (!text) return null;
  const t = text.trim();
  if (!/^-?(\d+[dhms])+$/.test(t)) return null;
  const sign = t.startsWith('-') ? -1 : 1;
  const size: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([dhms])/g)) total += Number(n) * size[unit];
  return sign * total;
}

// Seconds → the simulator's offset form: "0s", "17h", "26h30m".
export function formatOffset(seconds: number): string {
  if (seconds === 0) return '0s';
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return (seconds < 0 ? '-' : '') + (h ? `${h}h` : '') + (m ? `${m}m` : '') + (s ? `${s}s` : '');
}

// The release time as an offset from the run's start, from `release_offset`, or
// from an RFC 3339 `release_at` and the run's `start`.
export function releaseOffset(release: { offset?: unknown; at?: unknown }, start: unknown): string | undefined {
  if (typeof release.offset === 'string' && offsetSeconds(release.offset) !== null) return release.offset;
  if (typeof release.at === 'string' && typeof start === 'string') {
    const ms = Date.parse(release.at) - Date.parse(start);
    if (Number.isFinite(ms)) return formatOffset(Math.round(ms / 1000));
  }
  return undefined;
}

export interface GovernedMessage {
  status?: string; // pending, sent, deferred, suppressed, dropped, dead
  at?: string; // offset when the node produced it
  releaseOffset?: string; // offset when it was (or will be) released
  releaseAt?: string; // the same as a time
}

export function simOutcome(m: GovernedMessage): SimOutcome {
  switch (m.status) {
    case 'deferred':
      return 'deferred';
    case 'suppressed':
      return 'suppressed';
    case 'dropped':
      return 'dropped';
    case 'dead':
      return 'failed';
  }
  const made = offsetSeconds(m.at);
  const released = offsetSeconds(m.releaseOffset);
  return made !== null && released !== null && released > made ? 'sent-late' : 'sent';
}

export const OUTCOME_LABELS: Record<SimOutcome, string> = {
  sent: 'would be sent',
  'sent-late': 'deferred, then sent',
  deferred: 'deferred',
  suppressed: 'suppressed',
  dropped: 'dropped',
  failed: 'failed',
};

// Whether the message reached the provider in the run (on time or late).
export function outcomeSent(o: SimOutcome): boolean {
  return o === 'sent' || o === 'sent-late';
}

// "at 17h (2026-01-02T08:00:00Z)" for a release time, whichever parts are known.
export function releaseText(m: GovernedMessage): string | undefined {
  if (m.releaseOffset && m.releaseAt) return `${m.releaseOffset} (${m.releaseAt})`;
  return m.releaseOffset ?? m.releaseAt;
}

// One line per outcome for the messages heading: "2 would be sent · 1 suppressed".
export function outcomeSummary(outcomes: SimOutcome[]): string {
  const counts = new Map<SimOutcome, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  return (Object.keys(OUTCOME_LABELS) as SimOutcome[])
    .filter((o) => counts.has(o))
    .map((o) => `${counts.get(o)} ${OUTCOME_LABELS[o]}`)
    .join(' · ');
}

// The funnel a message node shows in the live view: its own counts, zeros before its
// first message; none for other nodes or when the server reports no messages.
export function liveFunnel(
  messages: Record<string, MessageFunnel> | undefined,
  node: { id: string; type: string },
): MessageFunnel | undefined {
  if (!messages || !MESSAGE_NODE_TYPES.includes(node.type)) return undefined;
  return messages[node.id] ?? emptyFunnel(node.id, node.type);
}

// A step's reason in the simulated path, one part per clause ("sms queued; deferred
// until … (cap sms 2/1d)"), each rule's verdict marked so that it stands out.
export interface ReasonPart {
  text: string;
  verdict?: 'deferred' | 'suppressed' | 'dropped';
}

export function reasonParts(reason: string): ReasonPart[] {
  return reason
    .split(/;\s+/)
    .filter((t) => t.trim() !== '')
    .map((text) => {
      if (/^deferred until /.test(text)) return { text, verdict: 'deferred' };
      if (/^not sent: /.test(text)) return { text, verdict: 'suppressed' };
      if (/^dropped: /.test(text)) return { text, verdict: 'dropped' };
      return { text };
    });
}
