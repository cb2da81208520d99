import { useEffect, useState } from 'react';
import { listFlows, type FlowSummary } from '../api';

const NAME_RE = /^[a-z][a-z0-9_]*$/;

function fmt(n: number | undefined): string {
  return n === undefined ? '–' : n.toLocaleString('en');
}

// The landing page: every flow the server knows, with its version, state and
// headline numbers, refreshed while the page is open.
export function FlowList() {
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [newName, setNewName] = useState('');

  useEffect(() => {
    let alive = true;
    const load = () =>
      listFlows()
        .then((f) => alive && (setFlows(f), setError(null)))
        .catch((e: Error) => alive && setError(e.message));
    load();
    const t = setInterval(load, 5000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, []);

  const nameOk = NAME_RE.test(newName) && !flows?.some((f) => f.name === newName);
  const create = () => {
    if (nameOk) location.hash = `#/new/${encodeURIComponent(newName)}`;
  };

  return (
    <div className="list-page">
      <header className="topbar">
        <span className="brand">Trellis</span>
        <span className="muted">campaign flows</span>
      </header>
      <main className="list-main">
        <h1>Flows</h1>
        {error && <div className="banner error">Cannot reach the server: {error}</div>}
        {!flows && !error && <p className="muted">Loading…</p>}
        {flows && (
          <table className="flows" data-testid="flow-list">
            <thead>
              <tr>
                <th>Flow</th>
                <th>Version</th>
                <th>State</th>
                <th className="num">Entered</th>
                <th className="num">Active now</th>
                <th className="num">Conversions</th>
              </tr>
            </thead>
            <tbody>
              {flows.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No flows yet: create one below.
                  </td>
                </tr>
              )}
              {flows.map((f) => (
                <tr key={f.name} data-flow={f.name}>
                  <td>
                    <a href={`#/flows/${encodeURIComponent(f.name)}`}>{f.name}</a>
                  </td>
                  <td>{f.version ? `v${f.version}` : '–'}</td>
                  <td>
                    <span className={`state state-${f.state ?? 'draft'}`}>{f.state ?? 'draft'}</span>
                  </td>
                  <td className="num">{fmt(f.entered)}</td>
                  <td className="num">{fmt(f.active)}</td>
                  <td className="num">{fmt(f.conversions)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form
          className="new-flow"
          onSubmit={(e) => {
            e.preventDefault();
            create();
          }}
        >
          <label htmlFor="new-flow-name">New flow</label>
          <input
            id="new-flow-name"
            placeholder="name, e.g. cart_reminder"
            value={newName}
            onChange={(e) => setNewName(e.target.value.trim())}
          />
          <button type="submit" disabled={!nameOk}>
            Create
          </button>
          {newName && !nameOk && (
            <span className="field-msg error">lower-case letters, digits and _; not a name in use</span>
          )}
        </form>
      </main>
    </div>
  );
}
