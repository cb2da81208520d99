// The HTTP API of `trellis serve` (README, "HTTP API"). The editor reaches the server
// only through these calls and exchanges flows as IR JSON.

import type { Diagnostic, Flow } from './model/ir';

export interface FlowSummary {
  name: string;
  description?: string;
  version?: number; // deployed version, absent when never deployed
  state?: string; // e.g. "deployed", "draft", "modified", "invalid"
  file?: string;
  entered?: number;
  active?: number; // journeys waiting now
  conversions?: number;
  errors?: number;
}

export interface NodeCounts {
  entered: number;
  waiting: number;
  exited: number;
}

export interface VariantCounts {
  entered: number;
  conversions: number;
}

export interface FlowStats {
  version?: number;
  nodes: Record<string, NodeCounts>;
  variants: Record<string, Record<string, VariantCounts>>; // node → variant → counts
  goal?: { conversions: number };
}

export interface SimEvent {
  at: string;
  type: string;
  properties?: Record<string, unknown>;
}

export interface SimStep {
  at?: string | number;
  node: string;
  reason?: string;
}

export interface SimDelivery {
  at?: string | number;
  channel: string;
  node: string;
  to?: string;
  subject?: string;
  body?: string;
}

export interface SimResult {
  path: string[];
  steps: SimStep[];
  deliveries: SimDelivery[];
  diagnostics: Diagnostic[];
  state?: string;
}

export class ApiError extends Error {
  status: number;
  diagnostics: Diagnostic[];
  constructor(status: number, message: string, diagnostics: Diagnostic[] = []) {
    super(message);
    this.status = status;
    this.diagnostics = diagnostics;
  }
}

let token: string | null = sessionStorage.getItem('trellis.token');
export function setToken(t: string | null) {
  token = t;
  if (t) sessionStorage.setItem('trellis.token', t);
  else sessionStorage.removeItem('trellis.token');
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token && method !== 'GET') headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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
    throw new ApiError(res.status, message, diagnosticsOf(j.diagnostics ?? j.detail));
  }
  return json as T;
}

function diagnosticsOf(x: unknown): Diagnostic[] {
  if (Array.isArray(x)) return x as Diagnostic[];
  if (x && typeof x === 'object' && Array.isArray((x as { diagnostics?: unknown }).diagnostics)) {
    return (x as { diagnostics: Diagnostic[] }).diagnostics;
  }
  return [];
}

const enc = encodeURIComponent;

export async function listFlows(): Promise<FlowSummary[]> {
  const r = await call<unknown>('GET', '/v1/flows');
  const list = Array.isArray(r) ? r : ((r as { flows?: unknown[] })?.flows ?? []);
  return list as FlowSummary[];
}

export interface LoadedFlow {
  flow: Flow;
  version?: number;
  state?: string;
}

export async function getFlow(name: string): Promise<LoadedFlow> {
  const r = await call<Record<string, unknown>>('GET', `/v1/flows/${enc(name)}?format=json`);
  // Either the IR itself or an envelope around it.
  if (Array.isArray(r.nodes)) return { flow: r as unknown as Flow, version: r.version as number | undefined };
  const ir = (r.ir ?? r.flow) as Flow;
  return { flow: ir, version: r.version as number | undefined, state: r.state as string | undefined };
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

export async function saveFlow(name: string, flow: Flow): Promise<void> {
  await call('PUT', `/v1/flows/${enc(name)}`, flow);
}

export async function deployFlow(name: string): Promise<number | undefined> {
  const r = await call<{ version?: number }>('POST', `/v1/flows/${enc(name)}/deploy`);
  return r?.version;
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

// Accepts per-node counts as an object keyed by node or as a list with `node`.
export async function getStats(name: string): Promise<FlowStats> {
  const r = (await call<Record<string, unknown>>('GET', `/v1/flows/${enc(name)}/stats`)) ?? {};
  const nodes: Record<string, NodeCounts> = {};
  const rawNodes = r.nodes;
  const entries: [string, Record<string, unknown>][] = Array.isArray(rawNodes)
    ? rawNodes.map((n: Record<string, unknown>) => [String(n.node ?? n.id), n])
    : Object.entries((rawNodes ?? {}) as Record<string, Record<string, unknown>>);
  for (const [id, c] of entries) {
    nodes[id] = { entered: num(c.entered), waiting: num(c.waiting ?? c.waiting_now), exited: num(c.exited) };
  }
  const variants: FlowStats['variants'] = {};
  const rawVariants = r.variants;
  if (Array.isArray(rawVariants)) {
    for (const v of rawVariants as Record<string, unknown>[]) {
      const node = String(v.node);
      (variants[node] ??= {})[String(v.variant ?? v.name)] = { entered: num(v.entered), conversions: num(v.conversions) };
    }
  } else if (rawVariants && typeof rawVariants === 'object') {
    for (const [node, byName] of Object.entries(rawVariants as Record<string, Record<string, Record<string, unknown>>>)) {
      variants[node] = {};
      for (const [vn, c] of Object.entries(byName)) {
        variants[node][vn] = { entered: num(c.entered), conversions: num(c.conversions) };
      }
    }
  }
  const goal = r.goal as { conversions?: unknown } | undefined;
  return {
    version: r.version as number | undefined,
    nodes,
    variants,
    goal: goal ? { conversions: num(goal.conversions) } : undefined,
  };
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
}

export async function simulate(req: SimRequest): Promise<SimResult> {
  const r = (await call<Record<string, unknown>>('POST', '/v1/simulate', req)) ?? {};
  const steps = (Array.isArray(r.steps) ? r.steps : []) as SimStep[];
  const path = Array.isArray(r.path) ? (r.path as string[]) : steps.map((s) => s.node);
  return {
    path,
    steps,
    deliveries: (Array.isArray(r.deliveries) ? r.deliveries : []) as SimDelivery[],
    diagnostics: diagnosticsOf(r.diagnostics),
    state: r.state as string | undefined,
  };
}
