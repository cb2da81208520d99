// The node kinds as the server's table describes them (GET /v1/schema/nodes,
// from dsl/ir/node_table.h): their names, labels, help lines and fields. The
// palette, the side panel's fields and new nodes come from here, so a kind
// added on the server needs no change in the editor (docs/node-kinds.md).
import type { IrNode } from './ir';

export interface FieldSchema {
  name: string;
  // "expression", "template", "target", "duration", "event", "weights",
  // "string", "generate", "time", "weekdays", "branches" ([{when, next}]),
  // "expressions" ({name: expression}).
  widget: string;
  required?: boolean;
  one_of?: string; // fields sharing a group: at least one of them is required
  required_with?: string; // required when one of these ('|'-joined) is set
  help?: string;
  initial?: unknown; // the value a new node starts with; absent: unset
}

export interface KindSchema {
  type: string;
  label?: string;
  help?: string;
  fields: FieldSchema[];
}

// The table the editor last received. Set once the server answered; until
// then the palette is empty and nodes show their type as their label.
let table: readonly KindSchema[] = [];

export function setKinds(kinds: readonly KindSchema[]): void {
  table = kinds;
}

export function kinds(): readonly KindSchema[] {
  return table;
}

export function kindOf(type: string): KindSchema | undefined {
  return table.find((k) => k.type === type);
}

export function kindLabel(type: string): string {
  return kindOf(type)?.label || type;
}

// A fresh node of `type` with the table's starting values (a wait for 1d, two
// A/B variants, empty texts the checker points at). Targets stay unset.
export function newNode(type: string, id: string): IrNode {
  const node: IrNode = { id, type };
  for (const f of kindOf(type)?.fields ?? []) {
    if (f.initial !== undefined) node[f.name] = structuredClone(f.initial);
  }
  return node;
}

// The node's fields that name another node, in table order.
export function targetFields(type: string): string[] {
  return (kindOf(type)?.fields ?? []).filter((f) => f.widget === 'target').map((f) => f.name);
}

// The fields the side panel shows for a kind; diagnostics on other fields are listed on top.
export function shownFields(type: string): string[] {
  return ['id', 'description', ...(kindOf(type)?.fields ?? []).map((f) => f.name)];
}
