// The flow list's search, state filter and sort, pure so they are unit-tested.
import type { FlowSummary } from './responses';

export type StateFilter = 'all' | FlowSummary['state'];
export type SortKey = 'name' | 'entered' | 'active' | 'conversions' | 'version';

export interface ListView {
  query: string;
  state: StateFilter;
  sort: SortKey;
}

export const DEFAULT_VIEW: ListView = { query: '', state: 'all', sort: 'name' };

// Names containing every word of the query (any case, `_` and spaces alike); numbers
// sort largest first, names A to Z, ties by name.
export function listFlows(flows: FlowSummary[], view: ListView): FlowSummary[] {
  const words = view.query.toLowerCase().replace(/_/g, ' ').split(/\s+/).filter(Boolean);
  const shown = flows.filter((f) => {
    if (view.state !== 'all' && f.state !== view.state) return false;
    const name = f.name.toLowerCase().replace(/_/g, ' ');
    return words.every((w) => name.includes(w));
  });
  const byName = (a: FlowSummary, b: FlowSummary) => a.name.localeCompare(b.name);
  if (view.sort === 'name') return shown.sort(byName);
  const key = view.sort;
  return shown.sort((a, b) => (b[key] ?? -1) - (a[key] ?? -1) || byName(a, b));
}

const NAME_RE = /^[a-z][a-z0-9_]*$/;

// Why a new name cannot be used, or null when it can.
export function nameProblem(name: string, flows: FlowSummary[]): string | null {
  if (!NAME_RE.test(name)) return 'lower-case letters, digits and _, starting with a letter';
  if (name === 'trellis') return '"trellis" is the delivery configuration';
  if (flows.some((f) => f.name === name)) return `a flow named ${name} exists`;
  return null;
}
