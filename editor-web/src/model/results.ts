// The results dashboard's model: the server's results (GET /v1/flows/{name}/stats with
// goal, revenue, A/B statistics, funnel and, for a time range, a series of buckets;
// GET /v1/flows/{name}/journeys for the drill-down) turned into what the dashboard
// draws and exports. Pure, so the contract with the API's JSON is unit-tested
// (docs/http-api.md).
import { statsFromJson, type FlowStats } from './responses';

type Obj = Record<string, unknown>;
const list = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);
const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
const numOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);
const pair = (x: unknown): [number, number] | null =>
  Array.isArray(x) && x.length === 2 && x.every((v) => typeof v === 'number' && Number.isFinite(v)) ? [x[0], x[1]] : null;

export interface Goal {
  event: string;
  within?: string;
  where?: string;
  value?: string;
}

export type Verdict = 'not_enough_data' | 'winner' | 'no_difference';

export interface VariantResult {
  variant: string;
  journeys: number;
  conversions: number;
  rate: number; // 0..1
  rateCi: [number, number] | null;
  revenue: number;
  revenuePerJourney: number;
  uplift: number | null; // relative to the control; null for the control itself
  upliftCi: [number, number] | null;
  pValue: number | null;
  pAdjusted: number | null;
  revenuePValue: number | null;
}

export interface AbResult {
  node: string;
  control: string;
  minSample: number;
  verdict: Verdict;
  winner?: string;
  summary: string;
  variants: VariantResult[];
}

export interface FunnelPath {
  path: string[];
  journeys: number;
  reached: number[]; // journeys that reached path[i]
}

export interface MessageOutcomes {
  sent: number;
  failed: number;
  suppressed: number;
  deferred: number;
  dropped: number;
  pending: number;
}

export interface Bucket {
  start: string; // RFC 3339
  entered: number;
  exited: number;
  converted: number;
  revenue: number;
  cost: number;
  messages: Record<string, MessageOutcomes>; // channel → outcomes
}

export interface NodeResult {
  convertedAfter: number; // conversions whose last message before them came from this node
  cost: number;
}

export interface Results {
  stats: FlowStats; // the counts the canvas already shows
  goal?: Goal;
  revenue: number;
  cost: number;
  roi: number | null; // null when nothing cost anything
  nodes: Record<string, NodeResult>;
  ab: AbResult[];
  funnel: FunnelPath[];
  series: Bucket[];
}

const VERDICTS: Verdict[] = ['not_enough_data', 'winner', 'no_difference'];

function variantFromJson(v: Obj): VariantResult {
  return {
    variant: String(v.variant ?? ''),
    journeys: num(v.journeys),
    conversions: num(v.conversions),
    rate: num(v.rate),
    rateCi: pair(v.rate_ci),
    revenue: num(v.revenue),
    revenuePerJourney: num(v.revenue_per_journey),
    uplift: numOrNull(v.uplift),
    upliftCi: pair(v.uplift_ci),
    pValue: numOrNull(v.p_value),
    pAdjusted: numOrNull(v.p_adjusted),
    revenuePValue: numOrNull(v.revenue_p_value),
  };
}

function outcomesFromJson(x: unknown): MessageOutcomes {
  const o = (x ?? {}) as Obj;
  return { sent: num(o.sent), failed: num(o.failed), suppressed: num(o.suppressed), deferred: num(o.deferred), dropped: num(o.dropped), pending: num(o.pending) };
}

// GET /v1/flows/{name}/stats[?from&to&bucket&tz]. A server without the results
// fields (older, or a flow with no goal) gives zeros and empty lists, never a throw.
export function resultsFromJson(json: unknown): Results {
  const r = (json ?? {}) as Obj;
  const g = r.goal as Obj | undefined;
  const goal = g && str(g.event) ? { event: String(g.event), within: str(g.within), where: str(g.where), value: str(g.value) } : undefined;
  const nodes: Record<string, NodeResult> = {};
  for (const n of list(r.nodes)) nodes[String(n.node)] = { convertedAfter: num(n.converted_after), cost: num(n.cost) };
  const ab = list(r.ab).map((a) => {
    const verdict = VERDICTS.includes(a.verdict as Verdict) ? (a.verdict as Verdict) : 'not_enough_data';
    return {
      node: String(a.node ?? ''),
      control: String(a.control ?? ''),
      minSample: num(a.min_sample),
      verdict,
      winner: str(a.winner),
      summary: String(a.summary ?? ''),
      variants: list(a.variants).map(variantFromJson),
    };
  });
  const funnel = list(r.funnel).map((f) => ({
    path: Array.isArray(f.path) ? f.path.map(String) : [],
    journeys: num(f.journeys),
    reached: Array.isArray(f.reached) ? f.reached.map(num) : [],
  }));
  const series = list(r.series).map((b) => {
    const messages: Record<string, MessageOutcomes> = {};
    for (const [channel, o] of Object.entries((b.messages ?? {}) as Obj)) messages[channel] = outcomesFromJson(o);
    return {
      start: String(b.start ?? ''),
      entered: num(b.entered),
      exited: num(b.exited),
      converted: num(b.converted),
      revenue: num(b.revenue),
      cost: num(b.cost),
      messages,
    };
  });
  return { stats: statsFromJson(r), goal, revenue: num(r.revenue), cost: num(r.cost), roi: numOrNull(r.roi), nodes, ab, funnel, series };
}

// ---- the time range --------------------------------------------------------------

export type RangeName = '24h' | '7d' | '30d';
export const RANGES: { name: RangeName; label: string; hours: number; bucket: 'hour' | 'day' }[] = [
  { name: '24h', label: 'Last 24 hours', hours: 24, bucket: 'hour' },
  { name: '7d', label: 'Last 7 days', hours: 24 * 7, bucket: 'day' },
  { name: '30d', label: 'Last 30 days', hours: 24 * 30, bucket: 'day' },
];

// The stats query for a range ending at `now`: hours end on the next whole hour so
// the current hour is in; day buckets are in the viewer's own time zone.
export function statsQuery(range: RangeName, now: Date, tz: string): string {
  const r = RANGES.find((x) => x.name === range) ?? RANGES[0];
  const to = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000);
  const from = new Date(to.getTime() - r.hours * 3_600_000);
  const q = new URLSearchParams({ from: iso(from), to: iso(to), bucket: r.bucket });
  if (r.bucket === 'day' && tz) q.set('tz', tz);
  return q.toString();
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---- charts ------------------------------------------------------------------------

// Every channel that has a message in the series, sorted.
export function channelsOf(series: Bucket[]): string[] {
  const s = new Set<string>();
  for (const b of series) for (const c of Object.keys(b.messages)) s.add(c);
  return [...s].sort();
}

export interface ChartSeries {
  label: string;
  values: number[];
}

export interface ChartData {
  times: number[]; // bucket starts, seconds since the epoch (uPlot's x)
  series: ChartSeries[];
}

// What each chart plots, one value per bucket: journeys entered and converted;
// revenue (and cost when any); messages sent per channel.
export function chartData(series: Bucket[]): { journeys: ChartData; revenue: ChartData; messages: ChartData } {
  const times = series.map((b) => Date.parse(b.start) / 1000);
  const col = (f: (b: Bucket) => number) => series.map(f);
  const revenue: ChartSeries[] = [{ label: 'revenue', values: col((b) => b.revenue) }];
  if (series.some((b) => b.cost > 0)) revenue.push({ label: 'cost', values: col((b) => b.cost) });
  return {
    journeys: {
      times,
      series: [
        { label: 'entered', values: col((b) => b.entered) },
        { label: 'converted', values: col((b) => b.converted) },
      ],
    },
    revenue: { times, series: revenue },
    messages: { times, series: channelsOf(series).map((c) => ({ label: c, values: col((b) => b.messages[c]?.sent ?? 0) })) },
  };
}

// A chart's words for screen readers and its table view: the total of each line.
export function chartSummary(title: string, data: ChartData): string {
  if (data.times.length === 0) return `${title}: no data in this range.`;
  const totals = data.series.map((s) => `${s.label} ${formatNumber(s.values.reduce((a, b) => a + b, 0))}`);
  return `${title} over ${data.times.length} periods: ${totals.join(', ') || 'nothing'}.`;
}

// ---- A/B -------------------------------------------------------------------------

export function verdictText(ab: AbResult): string {
  switch (ab.verdict) {
    case 'not_enough_data': {
      const least = ab.variants.length ? Math.min(...ab.variants.map((v) => v.journeys)) : 0;
      return `Not enough data yet: each variant needs ${ab.minSample} journeys (the smallest has ${least}).`;
    }
    case 'winner':
      return `Winner: ${ab.winner ?? '?'}.`;
    case 'no_difference':
      return 'No difference: the variants convert alike so far.';
  }
}

// Where an interval bar sits on a shared scale from `lo` to `hi` (0..100 %).
export interface Bar {
  left: number;
  width: number;
  mark: number; // the point estimate
}

export function scaleOf(ab: AbResult): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ab.variants) {
    for (const x of [v.rate, ...(v.rateCi ?? [])]) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  }
  if (!Number.isFinite(lo)) return { lo: 0, hi: 1 };
  lo = Math.max(0, lo);
  hi = Math.min(1, hi);
  if (hi - lo < 1e-9) return { lo: Math.max(0, lo - 0.05), hi: Math.min(1, hi + 0.05) };
  const pad = (hi - lo) * 0.05;
  return { lo: Math.max(0, lo - pad), hi: Math.min(1, hi + pad) };
}

export function intervalBar(v: VariantResult, scale: { lo: number; hi: number }): Bar {
  const at = (x: number) => Math.round(((x - scale.lo) / (scale.hi - scale.lo)) * 1000) / 10;
  const [a, b] = v.rateCi ?? [v.rate, v.rate];
  return { left: at(a), width: Math.max(0.5, at(b) - at(a)), mark: at(v.rate) };
}

// ---- the funnel on the canvas ---------------------------------------------------------

export interface FunnelFigure {
  reached: number;
  share: number; // of the journeys that entered the flow, 0..1
}

// Journeys that reached each node. A path's `reached[i]` counts the journeys that
// entered path[i] by the arrow from path[i-1] (reached[0]: journeys that entered the
// flow), so paths that share a beginning repeat its counts: each arrow is counted once,
// and a node's figure adds up the arrows into it.
export function funnelByNode(funnel: FunnelPath[], journeys: number): Record<string, FunnelFigure> {
  const byArrow = new Map<string, { node: string; n: number }>();
  for (const p of funnel) {
    p.path.forEach((node, i) => {
      const arrow = `${i === 0 ? '' : p.path[i - 1]}>${node}`;
      const n = p.reached[i] ?? 0;
      const seen = byArrow.get(arrow);
      if (!seen || n > seen.n) byArrow.set(arrow, { node, n });
    });
  }
  const reached: Record<string, number> = {};
  for (const { node, n } of byArrow.values()) reached[node] = (reached[node] ?? 0) + n;
  const out: Record<string, FunnelFigure> = {};
  for (const [node, n] of Object.entries(reached)) out[node] = { reached: n, share: journeys ? n / journeys : 0 };
  return out;
}

// ---- numbers and CSV --------------------------------------------------------------------

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function percent(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

export function pText(p: number | null): string {
  if (p === null) return '–';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

// One CSV field: quoted when it holds a comma, quote or line break (RFC 4180); a
// leading =, +, - or @ is prefixed with ' so a spreadsheet does not run it as a formula.
function csvField(x: unknown): string {
  let s = x === null || x === undefined ? '' : String(x);
  if (/^[=+\-@]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function seriesCsv(series: Bucket[]): string {
  const channels = channelsOf(series);
  const outcomes: (keyof MessageOutcomes)[] = ['sent', 'failed', 'suppressed', 'deferred', 'dropped', 'pending'];
  const header = ['start', 'entered', 'exited', 'converted', 'revenue', 'cost', ...channels.flatMap((c) => outcomes.map((o) => `${c}_${o}`))];
  const rows = series.map((b) => [
    b.start,
    b.entered,
    b.exited,
    b.converted,
    b.revenue,
    b.cost,
    ...channels.flatMap((c) => outcomes.map((o) => b.messages[c]?.[o] ?? 0)),
  ]);
  return toCsv(header, rows);
}

export function abCsv(ab: AbResult[]): string {
  const header = ['node', 'variant', 'control', 'journeys', 'conversions', 'rate', 'rate_ci_lo', 'rate_ci_hi', 'revenue', 'revenue_per_journey', 'uplift', 'uplift_ci_lo', 'uplift_ci_hi', 'p_value', 'p_adjusted', 'revenue_p_value', 'verdict'];
  const rows = ab.flatMap((a) =>
    a.variants.map((v) => [
      a.node,
      v.variant,
      v.variant === a.control ? 'yes' : 'no',
      v.journeys,
      v.conversions,
      v.rate,
      v.rateCi?.[0],
      v.rateCi?.[1],
      v.revenue,
      v.revenuePerJourney,
      v.uplift,
      v.upliftCi?.[0],
      v.upliftCi?.[1],
      v.pValue,
      v.pAdjusted,
      v.revenuePValue,
      a.verdict === 'winner' ? (a.winner === v.variant ? 'winner' : '') : a.verdict,
    ]),
  );
  return toCsv(header, rows);
}

export function journeysCsv(rows: JourneyRow[]): string {
  return toCsv(
    ['id', 'user_id', 'state', 'node', 'variant', 'entered_at', 'converted_at', 'revenue'],
    rows.map((j) => [j.id, j.userId, j.state, j.node, j.variant, j.enteredAt, j.convertedAt, j.revenue]),
  );
}

// ---- drill-down -----------------------------------------------------------------------

export interface JourneyRow {
  id: string;
  userId: string;
  state: string;
  node: string;
  variant?: string;
  enteredAt: string;
  convertedAt?: string;
  revenue?: number;
}

export interface JourneyPage {
  journeys: JourneyRow[];
  next?: string;
}

// GET /v1/flows/{name}/journeys?node=&state=&variant=&limit=&after=
export function journeyPageFromJson(json: unknown): JourneyPage {
  const r = (json ?? {}) as Obj;
  return {
    journeys: list(r.journeys).map((j) => ({
      id: String(j.id ?? ''),
      userId: String(j.user_id ?? ''),
      state: String(j.state ?? ''),
      node: String(j.node ?? ''),
      variant: str(j.variant),
      enteredAt: String(j.entered_at ?? ''),
      convertedAt: str(j.converted_at),
      revenue: numOrNull(j.revenue) ?? undefined,
    })),
    next: str(r.next) ?? (typeof r.next === 'number' ? String(r.next) : undefined),
  };
}

export function journeysQuery(filter: { node?: string; state?: string; variant?: string; limit?: number; after?: string }): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

export interface TraceStep {
  seq: number;
  node: string;
  at: string;
  reason: string;
}

// GET /v1/journeys/{id}: the journey and its steps in order.
export function traceFromJson(json: unknown): { journey: JourneyRow; steps: TraceStep[] } {
  const r = (json ?? {}) as Obj;
  return {
    journey: journeyPageFromJson({ journeys: [r] }).journeys[0],
    steps: list(r.steps).map((s) => ({ seq: num(s.seq), node: String(s.node ?? ''), at: String(s.at ?? ''), reason: String(s.reason ?? '') })),
  };
}
