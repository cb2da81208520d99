// Maps the checker's diagnostics (each names a node and a field) onto what the
// editor draws: a badge on the node, a message under the field in the side panel,
// a red handle for a slot whose target is missing or wrong.

import type { Diagnostic, Flow } from './ir';
import { slotsOf } from './graph';

export interface DiagnosticIndex {
  flow: Diagnostic[]; // no node: shown in the flow settings / problems list
  byNode: Map<string, Diagnostic[]>;
  byField: Map<string, Diagnostic[]>; // key: fieldKey(node, field)
  errors: number;
  warnings: number;
}

export function fieldKey(node: string, field: string): string {
  return `${node}\u0000${field}`;
}

// The checker may name a field with a path ("variants.a.next", "until_event.where")
// or only its head ("variants"). Both the full path and every shorter prefix find it.
function fieldPrefixes(field: string): string[] {
  const parts = field.split('.');
  const out: string[] = [];
  for (let i = parts.length; i >= 1; i--) out.push(parts.slice(0, i).join('.'));
  return out;
}

export function indexDiagnostics(diagnostics: Diagnostic[]): DiagnosticIndex {
  const index: DiagnosticIndex = { flow: [], byNode: new Map(), byField: new Map(), errors: 0, warnings: 0 };
  const push = (m: Map<string, Diagnostic[]>, k: string, d: Diagnostic) => {
    const list = m.get(k);
    if (list) list.push(d);
    else m.set(k, [d]);
  };
  for (const d of diagnostics) {
    if (d.severity === 'error') index.errors++;
    else index.warnings++;
    if (!d.node) {
      index.flow.push(d);
      if (d.field) for (const p of fieldPrefixes(d.field)) push(index.byField, fieldKey('', p), d);
      continue;
    }
    push(index.byNode, d.node, d);
    if (d.field) for (const p of fieldPrefixes(d.field)) push(index.byField, fieldKey(d.node, p), d);
  }
  return index;
}

// Diagnostics for exactly this field of a node ('' node for flow-level fields).
export function diagnosticsFor(index: DiagnosticIndex, node: string, field: string): Diagnostic[] {
  return index.byField.get(fieldKey(node, field)) ?? [];
}

export function worstSeverity(list: Diagnostic[]): 'error' | 'warning' | undefined {
  if (list.some((d) => d.severity === 'error')) return 'error';
  return list.length ? 'warning' : undefined;
}

// Handles of a node whose slot carries a diagnostic (e.g. "missing target for next").
export function handlesWithDiagnostics(flow: Flow, index: DiagnosticIndex, nodeId: string): Map<string, 'error' | 'warning'> {
  const out = new Map<string, 'error' | 'warning'>();
  const node = flow.nodes.find((n) => n.id === nodeId);
  if (!node) return out;
  for (const slot of slotsOf(node)) {
    const sev = worstSeverity(diagnosticsFor(index, nodeId, slot.field));
    if (sev) out.set(slot.handle, sev);
  }
  return out;
}

// Diagnostics of a node not tied to any field shown in the panel: listed at the top.
export function nodeLevel(index: DiagnosticIndex, node: string, shownFields: string[]): Diagnostic[] {
  const shown = new Set(shownFields);
  return (index.byNode.get(node) ?? []).filter((d) => {
    if (!d.field) return true;
    return !fieldPrefixes(d.field).some((p) => shown.has(p));
  });
}

// What the editor shows for a diagnostic: the server's plain sentence, else its
// message. The precise message stays available as the tooltip.
export function shownMessage(d: Diagnostic): string {
  return d.plain || d.message.replace(/`/g, '');
}

// Help text is written for the docs with `code` quotes; the editor shows plain text.
export function plainHelp(text: string): string {
  return text.replace(/`/g, '');
}
