// The server's answers for live counts and simulations, turned into what the canvas
// draws. Pure, so the contract with the API's JSON is unit-tested.
import { messageFunnelsFromJson, releaseOffset, simOutcome, type MessageFunnel, type SimOutcome } from './delivery';
import type { Diagnostic, Flow } from './ir';

export interface FlowSummary {
  name: string;
  version?: number; // deployed version, absent when never deployed
  state: 'draft' | 'deployed' | 'modified'; // modified: the saved file differs from the running version
  file?: string;
  entered?: number; // journeys started
  active?: number; // journeys not ended
  conversions?: number;
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
  journeys: number; // journeys ever started
  live: number; // journeys not ended
  conversions: number; // goal reached
  nodes: Record<string, NodeCounts>;
  variants: Record<string, Record<string, VariantCounts>>; // node → variant → counts
  messages?: Record<string, MessageFunnel>; // message node → its funnel; absent from older servers
}

export interface SimEvent {
  at: string;
  type: string;
  properties?: Record<string, unknown>;
}

export interface SimStep {
  at?: string;
  node: string;
  reason?: string;
}

export interface SimDelivery {
  at?: string;
  channel: string;
  node: string;
  to?: string;
  subject?: string;
  body?: string;
  // Governed delivery (absent from older servers): the outbox status, the rule that
  // held the message back, and when it was or will be released.
  status?: string;
  reason?: string;
  releaseAt?: string;
  releaseOffset?: string;
  priority?: number;
  category?: string;
  outcome: SimOutcome;
}

export interface SimResult {
  path: string[];
  steps: SimStep[];
  deliveries: SimDelivery[];
  diagnostics: Diagnostic[];
  state?: string;
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

type Obj = Record<string, unknown>;
const text = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);
const list = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);

// GET /v1/flows/{name}/stats: {version, journeys, live, conversions,
//   nodes: [{node, entered, waiting, exited}], variants: [{node, variant, journeys, conversions}],
//   messages?: [{node, channel, created, sent, deferred, suppressed, dropped, dead,
//                delivered, opened, clicked, bounced, complained}]}
export function statsFromJson(json: unknown): FlowStats {
  const r = (json ?? {}) as Obj;
  const nodes: Record<string, NodeCounts> = {};
  for (const n of list(r.nodes)) {
    nodes[String(n.node)] = { entered: num(n.entered), waiting: num(n.waiting), exited: num(n.exited) };
  }
  const variants: FlowStats['variants'] = {};
  for (const v of list(r.variants)) {
    (variants[String(v.node)] ??= {})[String(v.variant)] = { entered: num(v.journeys), conversions: num(v.conversions) };
  }
  return {
    version: typeof r.version === 'number' ? r.version : undefined,
    journeys: num(r.journeys),
    live: num(r.live),
    conversions: num(r.conversions),
    nodes,
    variants,
    messages: messageFunnelsFromJson(r.messages),
  };
}

export const SIM_USER = 'sample_user';

// The channels a sample user can be unsubscribed from in a simulation (the server
// knows email and sms, plus the channels of its delivery configuration).
export const CONSENT_CHANNELS = ['email', 'sms'] as const;

// The body of POST /v1/simulate for one sample user: event properties sit beside
// `at`, `type` and `user` (the scenario-file form, docs/scenarios.md). `unsubscribed` channels
// go as the user's consent ({"email": false}); none: no `consent` key, as older
// servers know none.
export function simRequestBody(flow: Flow, user: Obj, events: SimEvent[], coupons: Record<string, string[]>, unsubscribed: readonly string[] = []) {
  return {
    flow,
    users: { [SIM_USER]: user },
    coupons,
    events: events.map((e) => ({ ...(e.properties ?? {}), at: e.at, type: e.type, user: SIM_USER })),
    ...(unsubscribed.length > 0 && { consent: { [SIM_USER]: Object.fromEntries(unsubscribed.map((c) => [c, false])) } }),
  };
}

// The answer: {journeys: [{state, steps: [{node, offset, reason}]}], deliveries: [{channel,
// node, offset, to, subject?, body, status?, reason?, release_at?, priority?, category?}],
// start, diagnostics}. The path is the nodes visited in
// order, a node that several steps in a row stay at (a wait, then its timer) once.
export function simResultFromJson(json: unknown): SimResult {
  const r = (json ?? {}) as Obj;
  const journeys = list(r.journeys);
  const steps: SimStep[] = [];
  for (const j of journeys) {
    for (const s of list(j.steps)) {
      steps.push({ node: String(s.node), at: (s.offset ?? s.at) as string | undefined, reason: (s.reason as string) || undefined });
    }
  }
  const path = steps.map((s) => s.node).filter((n, i, all) => n !== all[i - 1]);
  const deliveries: SimDelivery[] = list(r.deliveries).map((d) => {
    const delivery = {
      channel: String(d.channel),
      node: String(d.node),
      at: (d.offset ?? d.at) as string | undefined,
      to: (d.to as string) || undefined,
      subject: (d.subject as string) || undefined,
      body: (d.body as string) || undefined,
      status: text(d.status),
      reason: text(d.reason) ?? text(d.last_error),
      releaseAt: text(d.release_at),
      releaseOffset: releaseOffset({ offset: d.release_offset, at: d.release_at }, r.start),
      priority: typeof d.priority === 'number' ? d.priority : undefined,
      category: text(d.category),
    };
    return { ...delivery, outcome: simOutcome(delivery) };
  });
  return {
    path,
    steps,
    deliveries,
    diagnostics: list(r.diagnostics) as unknown as Diagnostic[],
    state: journeys.map((j) => j.state as string).filter(Boolean).join(', ') || undefined,
  };
}

// GET /v1/flows: {flows: [{name, version, draft, file?, journeys?, live?, conversions?}]}
export function flowSummariesFromJson(json: unknown): FlowSummary[] {
  return list((json as Obj | null)?.flows).map((f) => {
    const version = num(f.version) || undefined;
    const out: FlowSummary = {
      name: String(f.name),
      version,
      state: !version ? 'draft' : f.draft ? 'modified' : 'deployed',
      file: (f.file as string) || undefined,
    };
    if (typeof f.journeys === 'number') {
      out.entered = f.journeys;
      out.active = num(f.live);
      out.conversions = num(f.conversions);
    }
    return out;
  });
}
