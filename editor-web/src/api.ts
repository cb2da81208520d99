// The HTTP API of `trellis serve` (README, "HTTP API"). The editor reaches the server
// only through these calls and exchanges flows as IR JSON.

import type { Diagnostic, Flow } from './model/ir';
import type { KindSchema } from './model/kinds';
import { replayFromJson, replayRequestBody, type ReplayPeriod, type ReplayResult } from './model/replay';
import { journeyPageFromJson, resultsFromJson, traceFromJson, type JourneyPage, type Results } from './model/results';
import { flowSummariesFromJson, simRequestBody, simResultFromJson, statsFromJson, type FlowStats, type FlowSummary, type SimEvent, type SimResult } from './model/responses';


export type { FlowStats, FlowSummary, NodeCounts, SimDelivery, SimEvent, SimResult, SimStep, VariantCounts } from './model/responses';

export class ApiError extends Error {
  status: number;
  diagnostics: Diagnostic[];
  // The server's explanation beside the error code ("event 1: unknown duration unit ' days'").
  detail?: string;
  constructor(status: number, message: string, diagnostics: Diagnostic[] = [], detail?: string) {
    super(message);
    this.status = status;
    this.diagnostics = diagnostics;
    this.detail = detail;
  }
}

let token: string | null = sessionStorage.getItem('trellis.token');
export function setToken(t: string | null) {
  token = t;
  if (t) sessionStorage.setItem('trellis.token', t);
  else sessionStorage.removeItem('trellis.token');
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await callWithHeaders<T>(method, path, body)).json;
}

async function callWithHeaders<T>(
  method: string,
  path: string,
  body?: unknown,
  retried = false,
): Promise<{ json: T; headers: Headers }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // A server with tokens wants one on every API call (docs/security.md): ask once,
  // keep it for the tab. Saving and deploying need a token with the admin scope.
  if (res.status === 401 && !retried) {
    const t = window.prompt('This server needs an API token. Token:');
    if (t) {
      setToken(t.trim());
      return callWithHeaders<T>(method, path, body, true);
    }
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const j = (json ?? {}) as Record<string, unknown>;
    const message = typeof j.error === 'string' ? j.error : `${res.status} ${res.statusText}`;
    const detail = typeof j.detail === 'string' ? j.detail : undefined;
    throw new ApiError(res.status, message, diagnosticsOf(j.diagnostics ?? j.detail), detail);
  }
  return { json: json as T, headers: res.headers };
}

function diagnosticsOf(x: unknown): Diagnostic[] {
  if (Array.isArray(x)) return x as Diagnostic[];
  if (x && typeof x === 'object' && Array.isArray((x as { diagnostics?: unknown }).diagnostics)) {
    return (x as { diagnostics: Diagnostic[] }).diagnostics;
  }
  return [];
}

const enc = encodeURIComponent;

// GET /v1/flows answers each flow's deployed version, whether a saved draft differs
// from it, and the headline numbers of deployed flows (older servers: from the stats).
export async function listFlows(): Promise<FlowSummary[]> {
  const r = await call<unknown>('GET', '/v1/flows');
  return Promise.all(
    flowSummariesFromJson(r).map(async (f) => {
      if (!f.version || f.entered !== undefined) return f;
      try {
        const s = await getStats(f.name);
        return { ...f, entered: s.journeys, active: s.live, conversions: s.conversions };
      } catch {
        return f; // numbers stay blank
      }
    }),
  );
}

export interface LoadedFlow {
  flow: Flow;
  version?: number;
  state?: string;
}

export async function getFlow(name: string): Promise<LoadedFlow> {
  const { json: r, headers } = await callWithHeaders<Record<string, unknown>>('GET', `/v1/flows/${enc(name)}?format=json`);
  const version = Number(headers.get('X-Trellis-Version') ?? 0) || undefined;
  const state = headers.get('X-Trellis-Draft') === 'true' ? 'modified' : undefined;
  // Either the IR itself or an envelope around it.
  const ir = (Array.isArray(r.nodes) ? r : (r.ir ?? r.flow)) as Flow;
  return { flow: stripSpans(ir), version, state };
}

// The reader's errors in a flow's file as written, such as a quote inside a "..."
// string: the editor gets the flow as far as the file could be read, and its own check
// of that cannot see them (it would say `unclosed '{{'` of the cut text instead). Only
// a draft's file can have them (a file that cannot be read is never deployed). The
// reader's errors are the ones with no finding code.
export async function fileReadErrors(name: string): Promise<Diagnostic[]> {
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const src = await fetch(`/v1/flows/${enc(name)}`, { headers: auth });
  if (!src.ok) return [];
  const type = src.headers.get('Content-Type') ?? 'text/plain';
  const r = await fetch('/v1/check', { method: 'POST', headers: { ...auth, 'Content-Type': type }, body: await src.text() });
  const j = (await r.json().catch(() => ({}))) as { diagnostics?: unknown };
  return diagnosticsOf(j.diagnostics).filter((d) => d.severity === 'error' && !d.code);
}

// Spans point into the file; the editor keeps none so a round trip compares equal.
function stripSpans(flow: Flow): Flow {
  return { ...flow, nodes: flow.nodes.map(({ span: _span, ...n }) => n) };
}

// The running version's IR; null when the flow was never deployed.
export async function getDeployedFlow(name: string): Promise<Flow | null> {
  try {
    const r = await call<Record<string, unknown>>('GET', `/v1/flows/${enc(name)}?format=json&version=deployed`);
    return stripSpans((Array.isArray(r.nodes) ? r : (r.ir ?? r.flow)) as Flow);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

// Deletes a flow that was never deployed (the server refuses a deployed one: 409).
export async function deleteFlow(name: string): Promise<void> {
  await call('DELETE', `/v1/flows/${enc(name)}`);
}

// A copy of a flow under a new name, saved (not deployed) in the server's canonical form.
export async function copyFlow(from: string, to: string): Promise<void> {
  const { flow } = await getFlow(from);
  await saveFlow(to, { ...flow, flow: to });
}

export async function checkFlow(flow: Flow): Promise<Diagnostic[]> {
  try {
    const r = await call<unknown>('POST', '/v1/check', flow);
    return diagnosticsOf(r);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) return e.diagnostics;
    throw e;
  }
}

// A flow with errors is saved too, as a draft that deploy refuses until they are fixed.
export interface SaveOutcome {
  errors: number;
  diagnostics: Diagnostic[];
}

export async function saveFlow(name: string, flow: Flow): Promise<SaveOutcome> {
  const r = await call<{ errors?: number }>('PUT', `/v1/flows/${enc(name)}`, flow);
  return { errors: Number(r?.errors ?? 0), diagnostics: diagnosticsOf(r) };
}

export async function deployFlow(name: string): Promise<number | undefined> {
  const r = await call<{ version?: number }>('POST', `/v1/flows/${enc(name)}/deploy`);
  return r?.version;
}

export async function getStats(name: string): Promise<FlowStats> {
  return statsFromJson(await call<unknown>('GET', `/v1/flows/${enc(name)}/stats`));
}

export async function recentEventTypes(): Promise<string[]> {
  const r = await call<unknown>('GET', '/v1/events/recent-types');
  const list = Array.isArray(r) ? r : ((r as { types?: unknown[] })?.types ?? []);
  return list.map((x) => (typeof x === 'string' ? x : String((x as { type?: unknown }).type))).filter(Boolean);
}

export interface SimRequest {
  flow: Flow;
  user: Record<string, unknown>;
  events: SimEvent[];
  coupons?: Record<string, string[]>;
  unsubscribed?: string[]; // channels the sample user has no consent for
}

// POST /v1/simulate runs the flow for one sample user on a virtual clock through
// the runtime's own code in a throwaway store: nothing is delivered.
export async function simulate(req: SimRequest): Promise<SimResult> {
  return simResultFromJson(await call<unknown>('POST', '/v1/simulate', simRequestBody(req.flow, req.user, req.events, req.coupons ?? {}, req.unsubscribed)));
}

// The table of node kinds (dsl/ir/node_table.h): labels, help lines, fields,
// which are required and what a new node starts with (model/kinds.ts).
export type { FieldSchema, KindSchema } from './model/kinds';

export async function nodeSchemas(): Promise<KindSchema[]> {
  const r = await call<unknown>('GET', '/v1/schema/nodes');
  return (Array.isArray(r) ? r : ((r as { kinds?: unknown[] })?.kinds ?? [])) as KindSchema[];
}

// The results dashboard (docs/http-api.md): the stats with goal, money, A/B statistics
// and funnel, plus a series of buckets for a time range (`query`: from, to, bucket, tz).
export async function getResults(name: string, query: string): Promise<Results> {
  return resultsFromJson(await call<unknown>('GET', `/v1/flows/${enc(name)}/stats${query ? `?${query}` : ''}`));
}

// A page of a flow's journeys, filtered by node, state or variant; `next` continues it.
export async function listJourneys(name: string, query: string): Promise<JourneyPage> {
  return journeyPageFromJson(await call<unknown>('GET', `/v1/flows/${enc(name)}/journeys${query ? `?${query}` : ''}`));
}

// One journey and every step it took, with the reason for each.
export async function journeyTrace(id: string): Promise<ReturnType<typeof traceFromJson>> {
  return traceFromJson(await call<unknown>('GET', `/v1/journeys/${enc(id)}`));
}

// ---- lifecycle, versions, diff, migration (docs/http-api.md#flow-lifecycle) ----

// One change between two versions, in words, as the server's diff (dsl/flow_diff.cpp)
// words it: the one implementation behind the deploy dialog and the history panel.
export interface Change {
  kind: 'added' | 'removed' | 'changed';
  node?: string; // absent for the flow's own settings
  text: string;
}

export type FlowState = 'active' | 'paused' | 'stopped' | 'archived';
export type LifecycleAction = 'pause' | 'resume' | 'stop' | 'archive';

export interface VersionInfo {
  version: number;
  deployed_at: string;
  author: string;
}

export interface VersionHistory {
  current: number;
  state: FlowState;
  versions: VersionInfo[]; // newest first
}

export async function listVersions(name: string): Promise<VersionHistory> {
  const r = await call<Partial<VersionHistory>>('GET', `/v1/flows/${enc(name)}/versions`);
  return { current: r.current ?? 0, state: r.state ?? 'active', versions: r.versions ?? [] };
}

// What deploying `flow` would change against the running version (or: the first version).
export async function diffDraft(name: string, flow: Flow): Promise<Change[]> {
  return (await call<{ changes: Change[] }>('POST', `/v1/flows/${enc(name)}/diff`, flow)).changes;
}

export async function diffVersions(name: string, from: number, to: number): Promise<Change[]> {
  return (await call<{ changes: Change[] }>('GET', `/v1/flows/${enc(name)}/diff?from=${from}&to=${to}`)).changes;
}

export interface LifecycleOutcome {
  state: FlowState;
  was: FlowState;
  journeys: number;
}

export async function changeFlowState(name: string, action: LifecycleAction, body: { reason?: string; timers?: 'fire' | 'shift' } = {}): Promise<LifecycleOutcome> {
  return call<LifecycleOutcome>('POST', `/v1/flows/${enc(name)}/${action}`, body);
}

export async function rollback(name: string, version: number): Promise<number> {
  return (await call<{ version: number }>('POST', `/v1/flows/${enc(name)}/rollback`, { version })).version;
}

export interface MigrationPlan {
  from: number;
  to: number;
  dry_run: boolean;
  movable: number;
  blocked_journeys: number;
  moved: number;
  moves: { from_node: string; to_node: string; journeys: number }[];
  blocked: { node: string; journeys: number; reason: string }[];
}

export async function migrate(name: string, req: { from: number; to?: number; map: Record<string, string>; dry_run: boolean; timers?: 'keep' | 'restart' }): Promise<MigrationPlan> {
  return call<MigrationPlan>('POST', `/v1/flows/${enc(name)}/migrate`, req);
}

// ---- replay (docs/http-api.md#post-v1flowsnamereplay) ----

// Runs the retained events of the last `period` through the draft and the live
// version of a deployed flow, compared; nothing is sent.
export async function replay(name: string, draft: Flow, period: ReplayPeriod): Promise<ReplayResult> {
  return replayFromJson(await call<unknown>('POST', `/v1/flows/${enc(name)}/replay`, replayRequestBody(draft, period)));
}
