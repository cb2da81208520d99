// The structured fields of the generic kinds as rows the side panel edits: a split's
// branches (condition + target, in order: the first that holds is taken) and
// update_profile's traits (trait name + expression, sent as a mapping). Pure functions,
// so the panel only draws them (docs/flows.md#split, docs/flows.md#update_profile).

export interface BranchRow {
  when: string; // a condition; empty while being typed (the checker points at it)
  next?: string;
}

// The branches of a field's value; anything that is not a list reads as none.
export function branchRows(value: unknown): BranchRow[] {
  if (!Array.isArray(value)) return [];
  return value.map((b) => {
    const { when, next } = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
    const row: BranchRow = { when: typeof when === 'string' ? when : '' };
    if (typeof next === 'string' && next) row.next = next;
    return row;
  });
}

// Row `i` changed; an emptied target is left out (not connected).
export function setBranch(rows: readonly BranchRow[], i: number, change: Partial<BranchRow>): BranchRow[] {
  return rows.map((r, j) => {
    if (j !== i) return r;
    const merged = { ...r, ...change };
    const out: BranchRow = { when: merged.when ?? '' };
    if (merged.next) out.next = merged.next;
    return out;
  });
}

// A new, empty branch last: tried after the others, before the default.
export function addBranch(rows: readonly BranchRow[]): BranchRow[] {
  return [...rows, { when: '' }];
}

export function removeBranch(rows: readonly BranchRow[], i: number): BranchRow[] {
  return rows.filter((_, j) => j !== i);
}

// Order matters (the first branch that holds wins): row `i` moves one place up
// (by -1) or down (by +1); a move past either end changes nothing.
export function moveBranch(rows: readonly BranchRow[], i: number, by: -1 | 1): BranchRow[] {
  const j = i + by;
  if (i < 0 || i >= rows.length || j < 0 || j >= rows.length) return [...rows];
  const out = [...rows];
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

export interface TraitRow {
  trait: string;
  value: string; // an expression: 'gold' in quotes is text, event.total a value
}

// A mapping of trait → expression as rows, in the mapping's order.
export function traitRows(value: unknown): TraitRow[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).map(([trait, v]) => ({ trait, value: typeof v === 'string' ? v : String(v ?? '') }));
}

// The rows as the field's mapping: rows without a trait name are still being typed
// and are left out, as is a repeated name (the first row keeps it; the panel marks
// the repeat); no named row at all is no mapping (the field is unset).
export function traitMap(rows: readonly TraitRow[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const name = r.trait.trim();
    if (name && !(name in out)) out[name] = r.value;
  }
  return Object.keys(out).length ? out : undefined;
}

// What is wrong with row `i` that the server cannot tell (it never sees the row):
// a repeated trait name, or a value without a name.
export function traitRowProblem(rows: readonly TraitRow[], i: number): string | undefined {
  const name = rows[i].trait.trim();
  if (!name) return rows[i].value.trim() ? 'give the trait a name' : undefined;
  if (rows.slice(0, i).some((r) => r.trait.trim() === name)) return `'${name}' is already set above; this row is ignored`;
  return undefined;
}

// True when the rows say the same as the mapping (the panel then keeps its rows,
// with their order and half-typed entries, instead of redrawing them from it).
export function sameTraits(rows: readonly TraitRow[], value: unknown): boolean {
  const a = traitMap(rows) ?? {};
  const b = traitMap(traitRows(value)) ?? {};
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}
