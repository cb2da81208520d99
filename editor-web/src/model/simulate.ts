// What the Simulate panel tells a marketer when a run fails or takes no step: the
// server's own detail placed at the input it is about, and a reason for an empty path.

import type { Flow } from './ir';

// The input a simulation error is about: a row of the events table (0-based, as
// shown) and, when the detail says, which of its cells.
export interface SimErrorPlace {
  row?: number;
  cell?: 'at' | 'type' | 'properties';
}

// The server numbers the events it was sent from 0 ("event 1: unknown duration
// unit ' days'"); rows with no type are not sent, so `sentRows[i]` is the row of
// the i-th event sent.
export function simErrorPlace(detail: string, sentRows: number[]): SimErrorPlace {
  const m = /^event (\d+)\b(.*)$/s.exec(detail);
  if (!m) return {};
  const row = sentRows[Number(m[1])] ?? Number(m[1]);
  const rest = m[2];
  if (/`at`|duration|unit|from 0s/.test(rest)) return { row, cell: 'at' };
  if (/`type`/.test(rest)) return { row, cell: 'type' };
  return { row };
}

// The error as shown: the server's detail in words, with its event numbered as the
// table shows it (from 1), else the error code.
export function simErrorText(code: string, detail: string | undefined, sentRows: number[]): string {
  if (!detail) return code === 'invalid_simulation' ? 'The simulation input is not valid.' : code;
  return detail
    .replace(/^event (\d+)\b/, (_, n) => `Event ${(sentRows[Number(n)] ?? Number(n)) + 1}`)
    .replace(/`/g, "'");
}

// Why a simulation took no step: the flow starts only on its trigger event (and
// condition), and none of the events sent was one that started a journey.
export function emptyPathReason(flow: Flow, sentTypes: string[]): string {
  if (flow.trigger.schedule !== undefined) {
    // A broadcast takes no event: its run enters the sample user when the audience holds.
    const who = flow.trigger.audience ? ` for ${flow.trigger.audience}` : '';
    return `No journey started: this flow starts on its schedule (at ${flow.trigger.schedule || '…'}${who}), not on an event. The sample user is not in the audience, or the simulated time ends before the schedule.`;
  }
  const trigger = flow.trigger.event;
  if (!trigger) return 'No journey started: the flow has no starting event yet.';
  const condition = flow.trigger.when ? ` when ${flow.trigger.when}` : '';
  if (!sentTypes.includes(trigger)) {
    const sent = sentTypes.length ? `the events were ${[...new Set(sentTypes)].map((t) => `'${t}'`).join(', ')}` : 'no event was sent';
    return `No journey started: this flow starts on '${trigger}'${condition}, and ${sent}. Add a '${trigger}' event.`;
  }
  if (condition) return `No journey started: the '${trigger}' event did not meet the starting condition${condition} for this user. Change the sample user or the event's properties.`;
  return `No journey started: the sample user could not enter (re-entry rule or an exit event came first).`;
}

type Sample = Record<string, unknown>;

// A value that makes `path op literal` true, for the sample event and user.
function satisfying(op: string, literal: string): unknown {
  if (literal.startsWith('"')) return op === '!=' ? `not ${literal.slice(1, -1)}` : literal.slice(1, -1);
  const n = Number(literal);
  switch (op) {
    case '>':
      return n + 1;
    case '<':
      return n - 1;
    case '!=':
      return n + 1;
    default:
      return n; // >=, <=, ==
  }
}

// The sample a simulation starts from, read off the flow's own trigger: the event
// properties and user traits its condition compares (`event.value >= 20` gives
// value 20, `user.sms_opt_in` alone gives true) and its journey key's property.
// Only simple comparisons with a literal are read; anything else is left to the user.
export function sampleFromTrigger(flow: Flow): { event: Sample; user: Sample } {
  const event: Sample = {};
  const user: Sample = {};
  const put = (root: string, name: string, value: unknown) => {
    const into = root === 'event' ? event : user;
    if (!(name in into)) into[name] = value;
  };
  const when = flow.trigger.when ?? '';
  const compared = /\b(event|user)\.(\w+)\s*(>=|<=|==|!=|>|<)\s*("[^"]*"|-?\d+(?:\.\d+)?)/g;
  for (const m of when.matchAll(compared)) put(m[1], m[2], satisfying(m[3], m[4]));
  // A bare path between `and`s (or at either end) is a yes/no trait.
  const bare = /(?:^|\band\s+)(event|user)\.(\w+)\s*(?=$|\band\b)/g;
  for (const m of when.matchAll(bare)) put(m[1], m[2], true);
  const key = /^\s*event\.(\w+)\s*$/.exec(flow.trigger.key ?? '');
  if (key) put('event', key[1], 'sample-1');
  return { event, user };
}
