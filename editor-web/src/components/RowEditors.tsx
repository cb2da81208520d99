// Side-panel editors for the list fields of the generic kinds (model/rows.ts): a
// split's branches as condition + target rows in order, and update_profile's `set`
// and `increment` as trait + expression rows. Each row shows the checker's findings
// for it underneath; the field's own findings stay on the field.
import { useState } from 'react';
import { diagnosticsFor, shownMessage, type DiagnosticIndex } from '../model/diagnostics';
import type { FieldSchema } from '../model/kinds';
import type { Diagnostic, IrNode } from '../model/ir';
import { addBranch, branchRows, moveBranch, removeBranch, sameTraits, setBranch, traitMap, traitRowProblem, traitRows, type BranchRow, type TraitRow } from '../model/rows';
import { Field, TargetSelect } from './fields';
import type { NodeUpdate } from './SidePanel';

interface RowsProps {
  spec: FieldSchema;
  label: string;
  node: IrNode;
  targets: string[];
  index: DiagnosticIndex;
  onUpdate: NodeUpdate;
}

// Findings on the field as a whole (e.g. "needs at least one branch"), not on a row.
function fieldLevel(index: DiagnosticIndex, node: string, field: string) {
  return diagnosticsFor(index, node, field).filter((d) => d.field === field);
}

function RowMessages({ list, prefix }: { list: Diagnostic[]; prefix: string }) {
  return (
    <>
      {list.map((d, i) => (
        <div key={i} className={`field-msg ${d.severity}`} data-testid="field-diag">
          {prefix}: {shownMessage(d)}
        </div>
      ))}
    </>
  );
}

export function BranchesEditor({ spec, label, node, targets, index, onUpdate }: RowsProps) {
  const name = spec.name;
  const rows = branchRows(node[name]);
  const write = (next: BranchRow[], key?: string) => onUpdate((n) => ({ ...n, [name]: next }), key);
  return (
    <Field name={name} label={label} diagnostics={fieldLevel(index, node.id, name)} hint={spec.help}>
      <table className="variants branches" data-testid={`rows-${name}`}>
        <thead>
          <tr>
            <th>#</th>
            <th>when</th>
            <th>go to</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((b, i) => {
            const d = diagnosticsFor(index, node.id, `${name}.${i}`);
            return (
              <tr key={i} data-row={i} className={d.length ? `has-${d[0].severity}` : ''}>
                <td className="num">{i + 1}</td>
                <td>
                  <input
                    className="mono"
                    aria-label={`branch ${i + 1} condition`}
                    name={`${name}.${i}.when`}
                    value={b.when}
                    placeholder="user.orders >= 5"
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(e) => write(setBranch(rows, i, { when: e.target.value }), `${node.id}.${name}.${i}.when`)}
                  />
                </td>
                <td>
                  <TargetSelect name={`${name}.${i}.next`} value={b.next} options={targets} onChange={(t) => write(setBranch(rows, i, { next: t }))} />
                </td>
                <td className="row-actions">
                  <button type="button" className="link" aria-label={`move branch ${i + 1} up`} disabled={i === 0} onClick={() => write(moveBranch(rows, i, -1))}>
                    ↑
                  </button>
                  <button
                    type="button"
                    className="link"
                    aria-label={`move branch ${i + 1} down`}
                    disabled={i === rows.length - 1}
                    onClick={() => write(moveBranch(rows, i, 1))}
                  >
                    ↓
                  </button>
                  <button type="button" className="link" aria-label={`remove branch ${i + 1}`} onClick={() => write(removeBranch(rows, i))}>
                    ✕
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.map((_, i) => (
        <RowMessages key={i} list={diagnosticsFor(index, node.id, `${name}.${i}`)} prefix={`branch ${i + 1}`} />
      ))}
      <button type="button" onClick={() => write(addBranch(rows))}>
        Add branch
      </button>
    </Field>
  );
}

export function TraitsEditor({ spec, label, node, index, onUpdate }: RowsProps) {
  const name = spec.name;
  const value = node[name];
  // The panel's own rows keep their order and the rows still being typed (no name
  // yet, a repeated name), which the mapping cannot hold; they are drawn again from
  // the node only when it changed elsewhere (undo, the text form).
  const [rows, setRows] = useState<TraitRow[]>(() => traitRows(value));
  const shown = sameTraits(rows, value) ? rows : traitRows(value);
  if (shown !== rows) setRows(shown);
  const write = (next: TraitRow[], key?: string) => {
    setRows(next);
    const map = traitMap(next);
    onUpdate((n) => ({ ...n, [name]: map }), key);
  };
  const placeholder = name === 'increment' ? '1' : "'gold'";
  return (
    <Field name={name} label={label} diagnostics={fieldLevel(index, node.id, name)} hint={spec.help}>
      <table className="variants traits" data-testid={`rows-${name}`}>
        <thead>
          <tr>
            <th>trait</th>
            <th>{name === 'increment' ? 'add' : 'value'}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((r, i) => {
            const problem = traitRowProblem(shown, i);
            const d = r.trait.trim() ? diagnosticsFor(index, node.id, `${name}.${r.trait.trim()}`) : [];
            const sev = problem ? 'warning' : d[0]?.severity;
            return (
              <tr key={i} data-row={i} className={sev ? `has-${sev}` : ''}>
                <td>
                  <input
                    aria-label={`${name} ${i + 1} trait`}
                    name={`${name}.${i}.trait`}
                    value={r.trait}
                    placeholder="tier"
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(e) => write(shown.map((x, j) => (j === i ? { ...x, trait: e.target.value } : x)), `${node.id}.${name}.${i}.trait`)}
                  />
                </td>
                <td>
                  <input
                    className="mono"
                    aria-label={`${name} ${i + 1} value`}
                    name={`${name}.${i}.value`}
                    value={r.value}
                    placeholder={placeholder}
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(e) => write(shown.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)), `${node.id}.${name}.${i}.value`)}
                  />
                </td>
                <td className="row-actions">
                  <button type="button" className="link" aria-label={`remove ${name} ${i + 1}`} onClick={() => write(shown.filter((_, j) => j !== i))}>
                    ✕
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {shown.map((r, i) => {
        const problem = traitRowProblem(shown, i);
        const label = r.trait.trim() || `row ${i + 1}`;
        return (
          <div key={i}>
            {problem && (
              <div className="field-msg warning" data-testid="field-diag">
                {label}: {problem}
              </div>
            )}
            {r.trait.trim() && !problem && <RowMessages list={diagnosticsFor(index, node.id, `${name}.${r.trait.trim()}`)} prefix={label} />}
          </div>
        );
      })}
      <button type="button" onClick={() => write([...shown, { trait: '', value: '' }])}>
        Add trait
      </button>
    </Field>
  );
}
