import { useCallback, useEffect, useMemo, useState } from 'react';
import { copyFlow, deleteFlow, listFlows, type FlowSummary } from '../api';
import { DEFAULT_VIEW, listFlows as viewOf, nameProblem, type ListView, type SortKey, type StateFilter } from '../model/flowList';

function fmt(n: number | undefined): string {
  return n === undefined ? '–' : n.toLocaleString('en');
}

// Box positions are kept per flow name in the browser; a renamed flow keeps them.
function movePositions(from: string, to: string, keep: boolean) {
  const v = localStorage.getItem(`trellis.positions.${from}`);
  if (v) localStorage.setItem(`trellis.positions.${to}`, v);
  if (v && !keep) localStorage.removeItem(`trellis.positions.${from}`);
}

// The landing page: every flow the server knows, with its version, state and
// headline numbers, refreshed while the page is open; search, filter and sort; and
// duplicate, rename and delete (a deployed flow keeps running, so only flows never
// deployed can be renamed or deleted).
export function FlowList() {
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [newName, setNewName] = useState('');
  const [view, setView] = useState<ListView>(DEFAULT_VIEW);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const load = useCallback(
    () =>
      listFlows()
        .then((f) => (setFlows(f), setError(null)))
        .catch((e: Error) => setError(e.message)),
    [],
  );
  useEffect(() => {
    let alive = true;
    const tick = () => alive && void load();
    tick();
    const t = setInterval(tick, 5000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [load]);

  const shown = useMemo(() => (flows ? viewOf(flows, view) : null), [flows, view]);
  const nameOk = !!flows && nameProblem(newName, flows) === null;
  const create = () => {
    if (nameOk) location.hash = `#/new/${encodeURIComponent(newName)}`;
  };

  const askName = (question: string, suggestion: string): string | null => {
    const answer = window.prompt(question, suggestion)?.trim();
    if (!answer) return null;
    const problem = nameProblem(answer, flows ?? []);
    if (problem) {
      setNotice({ kind: 'error', text: `Cannot use "${answer}": ${problem}` });
      return null;
    }
    return answer;
  };
  const act = async (what: () => Promise<void>, done: string) => {
    try {
      await what();
      setNotice({ kind: 'ok', text: done });
    } catch (e) {
      setNotice({ kind: 'error', text: (e as Error).message });
    }
    await load();
  };
  const duplicate = (f: FlowSummary) => {
    const to = askName(`Name of the copy of ${f.name}:`, `${f.name}_copy`);
    if (to) void act(async () => (await copyFlow(f.name, to), movePositions(f.name, to, true)), `Copied ${f.name} to ${to} (saved, not deployed)`);
  };
  const rename = (f: FlowSummary) => {
    const to = askName(`New name for ${f.name}:`, f.name);
    if (to)
      void act(async () => {
        await copyFlow(f.name, to);
        await deleteFlow(f.name);
        movePositions(f.name, to, false);
      }, `Renamed ${f.name} to ${to}`);
  };
  const remove = (f: FlowSummary) => {
    if (window.confirm(`Delete ${f.name} and its file? This cannot be undone.`))
      void act(async () => (await deleteFlow(f.name), localStorage.removeItem(`trellis.positions.${f.name}`)), `Deleted ${f.name}`);
  };

  const set = (patch: Partial<ListView>) => setView((v) => ({ ...v, ...patch }));

  return (
    <div className="list-page">
      <header className="topbar">
        <span className="brand">Trellis</span>
        <span className="muted">campaign flows</span>
      </header>
      <main className="list-main">
        <h1>Flows</h1>
        {error && <div className="banner error">Cannot reach the server: {error}</div>}
        {notice && (
          <div className={`banner ${notice.kind}`} data-testid="list-notice">
            {notice.text}
          </div>
        )}
        {!flows && !error && <p className="muted">Loading…</p>}
        {flows && (
          <div className="list-tools">
            <input
              type="search"
              aria-label="Search flows"
              placeholder="Search flows"
              value={view.query}
              onChange={(e) => set({ query: e.target.value })}
            />
            <label>
              Show{' '}
              <select name="state-filter" value={view.state} onChange={(e) => set({ state: e.target.value as StateFilter })}>
                <option value="all">all flows</option>
                <option value="deployed">deployed</option>
                <option value="modified">changed since deploy</option>
                <option value="draft">never deployed</option>
              </select>
            </label>
            <label>
              Sort by{' '}
              <select name="sort" value={view.sort} onChange={(e) => set({ sort: e.target.value as SortKey })}>
                <option value="name">name</option>
                <option value="entered">journeys entered</option>
                <option value="active">active now</option>
                <option value="conversions">conversions</option>
                <option value="version">version</option>
              </select>
            </label>
          </div>
        )}
        {shown && flows && (
          <table className="flows" data-testid="flow-list">
            <thead>
              <tr>
                <th>Flow</th>
                <th>Version</th>
                <th>State</th>
                <th className="num">Entered</th>
                <th className="num">Active now</th>
                <th className="num">Conversions</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {flows.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No flows yet: create one below.
                  </td>
                </tr>
              )}
              {flows.length > 0 && shown.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted" data-testid="no-match">
                    No flow matches.
                  </td>
                </tr>
              )}
              {shown.map((f) => {
                const running = !!f.version;
                const why = running ? 'A deployed flow keeps running: duplicate it instead' : undefined;
                return (
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
                    <td className="row-actions">
                      <button type="button" className="link" onClick={() => duplicate(f)} aria-label={`Duplicate ${f.name}`}>
                        Duplicate
                      </button>
                      <button type="button" className="link" onClick={() => rename(f)} disabled={running} title={why} aria-label={`Rename ${f.name}`}>
                        Rename
                      </button>
                      <button type="button" className="link" onClick={() => remove(f)} disabled={running} title={why} aria-label={`Delete ${f.name}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
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
            placeholder="name, e.g. spring_sale"
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
