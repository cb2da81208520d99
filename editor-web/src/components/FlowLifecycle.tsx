// A deployed flow's life in the editor's header: Pause / Resume, Stop and Archive,
// each confirmed with how many journeys it touches (docs/flows.md#pausing-stopping-and-archiving),
// and History: the versions with who deployed them, the diff between any two in words,
// rollback, and the migration of waiting journeys, previewed before it is applied.
import { useCallback, useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import * as api from '../api';

type Ask = { action: api.LifecycleAction; live: number };

const ACTION_WORDS: Record<api.LifecycleAction, { title: string; effect: (live: number) => string }> = {
  pause: {
    title: 'Pause',
    effect: (n) =>
      `${journeys(n)} live: they hold where they are and no new journeys start. Timers that fall due during the pause fire on resume, in due order.`,
  },
  resume: { title: 'Resume', effect: (n) => `${journeys(n)} live: they go on from where they are; timers that fell due during the pause fire now.` },
  stop: { title: 'Stop', effect: (n) => `${journeys(n)} live: every one exits now, with the reason in its trace. No new journeys start.` },
  archive: { title: 'Archive', effect: (n) => `${journeys(n)} live: every one exits now. The flow leaves the flow list.` },
};

function journeys(n: number): string {
  return `${n} journey${n === 1 ? ' is' : 's are'}`;
}

export function FlowLifecycle({ name, version, onRolledBack }: { name: string; version: number; onRolledBack: () => void }) {
  const [state, setState] = useState<api.FlowState>('active');
  const [ask, setAsk] = useState<Ask | null>(null);
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [showHistory, setShowHistory] = useState(false);

  const refresh = useCallback(async () => {
    try {
      setState((await api.listVersions(name)).state);
    } catch {
      // an older server: no lifecycle; the buttons stay as for an active flow
    }
  }, [name]);
  useEffect(() => {
    void refresh();
  }, [refresh, version]);

  const confirm = async (action: api.LifecycleAction) => {
    const live = (await api.getStats(name).catch(() => null))?.live ?? 0;
    setReason('');
    setAsk({ action, live });
  };

  const apply = async () => {
    if (!ask) return;
    try {
      const out = await api.changeFlowState(name, ask.action, reason.trim() ? { reason: reason.trim() } : {});
      setMessage(`${ACTION_WORDS[ask.action].title}: ${out.journeys} journey${out.journeys === 1 ? '' : 's'} touched`);
      setState(out.state);
    } catch (e) {
      setMessage(`${ACTION_WORDS[ask.action].title} failed: ${(e as Error).message}`);
    }
    setAsk(null);
  };

  return (
    <>
      {state !== 'active' && (
        <span className={`flow-state state-${state}`} data-testid="flow-state">
          {state}
        </span>
      )}
      {state === 'active' ? (
        <button type="button" onClick={() => void confirm('pause')} data-testid="pause">
          Pause
        </button>
      ) : (
        <button type="button" onClick={() => void confirm('resume')} data-testid="resume">
          Resume
        </button>
      )}
      {(state === 'active' || state === 'paused') && (
        <button type="button" onClick={() => void confirm('stop')} data-testid="stop">
          Stop
        </button>
      )}
      {state === 'stopped' && (
        <button type="button" onClick={() => void confirm('archive')} data-testid="archive">
          Archive
        </button>
      )}
      <button type="button" onClick={() => setShowHistory(true)} data-testid="history">
        History
      </button>
      {message && (
        <span className="muted" data-testid="lifecycle-message">
          {message}
        </span>
      )}
      {ask &&
        createPortal(
        <div className="modal-backdrop" onClick={() => setAsk(null)}>
          <div className="modal" role="dialog" aria-label={ACTION_WORDS[ask.action].title} data-testid="lifecycle-confirm" onClick={(e) => e.stopPropagation()}>
            <h2>
              {ACTION_WORDS[ask.action].title} {name}?
            </h2>
            <p data-testid="lifecycle-effect">{ACTION_WORDS[ask.action].effect(ask.live)}</p>
            {ask.action !== 'resume' && (
              <label className="field">
                Reason (in each journey's trace)
                <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. wrong coupon in the SMS" data-testid="lifecycle-reason" />
              </label>
            )}
            <div className="modal-buttons">
              <button type="button" onClick={() => setAsk(null)}>
                Cancel
              </button>
              <button type="button" className="primary" onClick={() => void apply()} autoFocus data-testid="lifecycle-apply">
                {ACTION_WORDS[ask.action].title} now
              </button>
            </div>
          </div>
        </div>,
          document.body,
        )}
      {showHistory &&
        createPortal(<HistoryPanel name={name} onClose={() => setShowHistory(false)} onRolledBack={onRolledBack} />, document.body)}
    </>
  );
}

// The version history: pick two versions to see the changes between them in words,
// roll back to one, or move the journeys waiting on one into another.
function HistoryPanel({ name, onClose, onRolledBack }: { name: string; onClose: () => void; onRolledBack: () => void }) {
  const [history, setHistory] = useState<api.VersionHistory | null>(null);
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);
  const [changes, setChanges] = useState<api.Change[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .listVersions(name)
      .then((h) => {
        setHistory(h);
        setTo(h.current);
        setFrom(Math.max(1, h.current - 1));
      })
      .catch((e) => setError((e as Error).message));
  }, [name]);

  useEffect(() => {
    if (!from || !to || from === to) {
      setChanges(null);
      return;
    }
    api
      .diffVersions(name, from, to)
      .then(setChanges)
      .catch((e) => setError((e as Error).message));
  }, [name, from, to]);

  const doRollback = async (v: number) => {
    if (!window.confirm(`Deploy version ${v}'s text again as the next version of ${name}? Running journeys keep their versions.`)) return;
    try {
      await api.rollback(name, v);
      onRolledBack();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const versions = history?.versions ?? [];
  const pick = (value: number, set: (v: number) => void, label: string, testid: string) => (
    <label className="field">
      {label}
      <select value={value} onChange={(e) => set(Number(e.target.value))} data-testid={testid}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal history" role="dialog" aria-label="History" data-testid="history-panel" onClick={(e) => e.stopPropagation()}>
        <h2>History of {name}</h2>
        {error && <p className="error" data-testid="history-error">{error}</p>}
        <table className="versions" data-testid="versions">
          <thead>
            <tr>
              <th>version</th>
              <th>deployed</th>
              <th>by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>v{v.version}{v.version === history?.current ? ' (running)' : ''}</td>
                <td>{new Date(v.deployed_at).toLocaleString()}</td>
                <td>{v.author || '—'}</td>
                <td>
                  {v.version !== history?.current && (
                    <button type="button" onClick={() => void doRollback(v.version)} data-testid={`rollback-${v.version}`}>
                      Roll back to v{v.version}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {versions.length > 1 && (
          <>
            <h3>Changes</h3>
            <div className="pickers">
              {pick(from, setFrom, 'from', 'diff-from')}
              {pick(to, setTo, 'to', 'diff-to')}
            </div>
            <ul className="changes" data-testid="history-changes">
              {changes?.length === 0 && <li>no changes</li>}
              {changes?.map((c, i) => (
                <li key={i} className={`change-${c.kind}`} data-kind={c.kind}>
                  {c.text}
                </li>
              ))}
            </ul>
            <Migration name={name} versions={versions} current={history?.current ?? 0} />
          </>
        )}
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}

// Moving waiting journeys from an older version into another: a preview first (how many
// would move from each node to which, which cannot and why), then Apply.
function Migration({ name, versions, current }: { name: string; versions: api.VersionInfo[]; current: number }) {
  const [from, setFrom] = useState(versions.find((v) => v.version !== current)?.version ?? 0);
  const [map, setMap] = useState<Record<string, string>>({});
  const [plan, setPlan] = useState<api.MigrationPlan | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (dryRun: boolean) => {
    setError(null);
    try {
      const mapped = Object.fromEntries(Object.entries(map).filter(([, to]) => to.trim() !== ''));
      const out = await api.migrate(name, { from, to: current, map: mapped, dry_run: dryRun });
      setPlan(out);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const apply = async () => {
    if (!plan) return;
    if (!window.confirm(`Move ${plan.movable} waiting journey${plan.movable === 1 ? '' : 's'} from v${from} to v${current}?`)) return;
    await run(false);
  };

  return (
    <div className="migration" data-testid="migration">
      <h3>Move waiting journeys to v{current}</h3>
      <div className="pickers">
        <label className="field">
          from
          <select value={from} onChange={(e) => { setFrom(Number(e.target.value)); setPlan(null); }} data-testid="migrate-from">
            {versions.filter((v) => v.version !== current).map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void run(true)} data-testid="migrate-preview">
          Preview
        </button>
      </div>
      {error && <p className="error" data-testid="migration-error">{error}</p>}
      {plan && (
        <div data-testid="migration-plan">
          <p data-testid="migration-summary">
            {plan.dry_run
              ? `${plan.movable} journey${plan.movable === 1 ? '' : 's'} would move; ${plan.blocked_journeys} cannot.`
              : `${plan.moved} journey${plan.moved === 1 ? '' : 's'} moved.`}
          </p>
          <ul className="moves">
            {plan.moves.map((m) => (
              <li key={`${m.from_node}>${m.to_node}`} data-testid="migration-move">
                {m.journeys} from <code>{m.from_node}</code> to <code>{m.to_node}</code>
              </li>
            ))}
            {plan.blocked.map((b) => (
              <li key={`${b.node}:${b.reason}`} className="blocked" data-testid="migration-blocked">
                {b.journeys} at <code>{b.node}</code> cannot move: {b.reason}{' '}
                <input
                  placeholder="map to node"
                  value={map[b.node] ?? ''}
                  onChange={(e) => setMap({ ...map, [b.node]: e.target.value })}
                  data-testid={`map-${b.node}`}
                />
              </li>
            ))}
          </ul>
          {plan.dry_run && plan.movable > 0 && (
            <button type="button" className="primary" onClick={() => void apply()} data-testid="migrate-apply">
              Apply: move {plan.movable}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
