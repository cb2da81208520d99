import { useState } from 'react';
import * as api from '../api';
import { comparedRows, pathText, replayErrorText, type ReplayJourney, type ReplayPeriod, type ReplayResult } from '../model/replay';
import type { Flow } from '../model/ir';

// Replay: last week's real traffic (the events the server retained) through the draft
// on the canvas and through the live version, side by side. Nothing is sent.
export function ReplayPanel({ name, deployed, draft }: { name: string; deployed: boolean; draft: () => Flow }) {
  const [period, setPeriod] = useState<ReplayPeriod>('7d');
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<ReplayResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      setResult(await api.replay(name, draft(), period));
    } catch (e) {
      setResult(null);
      setError(e instanceof api.ApiError ? replayErrorText(e.message, e.detail) : (e as Error).message);
    } finally {
      setRunning(false);
    }
  };

  if (!deployed) {
    return (
      <div className="panel" data-testid="replay-panel">
        <p className="muted">Deploy the flow first: a replay compares this draft with the live version on real traffic.</p>
      </div>
    );
  }
  return (
    <div className="panel" data-testid="replay-panel">
      <p className="muted small">
        Runs the events the server kept for the period through this draft and through the live version, each on a virtual clock.
        Nothing is sent.
      </p>
      <div className="row">
        <label>
          Period{' '}
          <select name="replay-period" value={period} onChange={(e) => setPeriod(e.target.value as ReplayPeriod)}>
            <option value="24h">last 24 hours</option>
            <option value="7d">last 7 days</option>
            <option value="30d">last 30 days</option>
          </select>
        </label>
        <button type="button" className="primary" data-testid="replay-run" disabled={running} onClick={() => void run()}>
          {running ? 'Replaying…' : 'Replay'}
        </button>
      </div>
      {error && (
        <div className="banner error" data-testid="replay-error">
          {error}
        </div>
      )}
      {result && <ReplayAnswer result={result} />}
    </div>
  );
}

function ReplayAnswer({ result }: { result: ReplayResult }) {
  return (
    <div data-testid="replay-result">
      <p className="small" data-testid="replay-summary">
        {result.events} events of {result.users} users; <b data-testid="replay-differing">{result.differingUsers}</b>{' '}
        {result.differingUsers === 1 ? 'user takes' : 'users take'} another path with the draft.
      </p>
      <table className="small" data-testid="replay-compare">
        <thead>
          <tr>
            <th />
            <th>live (v{result.live.version ?? '?'})</th>
            <th>draft</th>
            <th>change</th>
          </tr>
        </thead>
        <tbody>
          {comparedRows(result).map((r) => (
            <tr key={r.label} data-row={r.label}>
              <td>{r.label}</td>
              <td className="num">{r.live}</td>
              <td className="num">{r.draft}</td>
              <td className="num">{r.change}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {result.sample.map((u) => (
        <details key={u.user} className="replay-user" data-testid="replay-user" data-user={u.user}>
          <summary>{u.user}</summary>
          <div className="replay-traces">
            <Traces title="live" journeys={u.live} />
            <Traces title="draft" journeys={u.draft} />
          </div>
        </details>
      ))}
    </div>
  );
}

function Traces({ title, journeys }: { title: string; journeys: ReplayJourney[] }) {
  return (
    <div data-testid={`replay-trace-${title}`}>
      <b>{title}</b>
      {journeys.length === 0 && <p className="muted small">no journey</p>}
      {journeys.map((j, i) => (
        <div key={i}>
          <div className="small">{pathText(j)}</div>
          <ol className="trace small">
            {j.steps.map((s) => (
              <li key={s.seq}>
                <b>{s.node}</b> <span className="muted">{s.input}</span>
                {s.reason && <div className="muted">{s.reason}</div>}
              </li>
            ))}
          </ol>
        </div>
      ))}
    </div>
  );
}
