// Live numbers as the canvas shows them, the same words on every box: how many
// journeys entered the box, how many wait there now, how many went on past it, and
// how many ended there (an exit, an exit_on event, a failure).
import type { FlowStats, NodeCounts } from './responses';

export interface BoxFigures {
  entered: number;
  waiting: number;
  passed: number;
  ended: number;
}

// The server counts journeys that entered a node, wait at it, and ended at it
// (`exited`); the rest went on to the next box.
export function boxFigures(c: NodeCounts | undefined): BoxFigures {
  const entered = c?.entered ?? 0;
  const waiting = c?.waiting ?? 0;
  const ended = c?.exited ?? 0;
  return { entered, waiting, ended, passed: Math.max(0, entered - waiting - ended) };
}

// "12.5%" of a part in a whole, one decimal; "–" when there is no whole yet.
export function rate(part: number, whole: number): string {
  if (!whole) return '–';
  return `${Math.round((part / whole) * 1000) / 10}%`;
}

export interface VariantFigures {
  variant: string;
  journeys: number;
  conversions: number;
  rate: string;
}

// Each variant of an A/B node in the flow's order, with its journeys and conversion
// rate (a variant no journey took yet shows zeros).
export function variantFigures(stats: FlowStats | null | undefined, node: string, variants: string[]): VariantFigures[] {
  const byVariant = stats?.variants[node] ?? {};
  return variants.map((v) => {
    const c = byVariant[v] ?? { entered: 0, conversions: 0 };
    return { variant: v, journeys: c.entered, conversions: c.conversions, rate: rate(c.conversions, c.entered) };
  });
}

export interface FlowTotals {
  journeys: number;
  active: number;
  conversions: number;
  rate: string;
}

export function flowTotals(stats: FlowStats | null | undefined): FlowTotals {
  const journeys = stats?.journeys ?? 0;
  const conversions = stats?.conversions ?? 0;
  return { journeys, active: stats?.live ?? 0, conversions, rate: rate(conversions, journeys) };
}
