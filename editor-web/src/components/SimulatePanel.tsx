import { Fragment, useState } from 'react';
import type { SimDelivery, SimEvent, SimResult } from '../api';
import { CONSENT_CHANNELS } from '../model/responses';
import { OUTCOME_LABELS, outcomeSent, outcomeSummary, reasonParts, releaseText } from '../model/delivery';
import { EVENT_TYPES_LIST } from './fields';
import { shownMessage } from '../model/diagnostics';
import { sampleFromTrigger, type SimErrorPlace } from '../model/simulate';
import type { Flow } from '../model/ir';

// A failed run: what went wrong in words and, when the server said, the input it is about.
export interface SimFailure {
  text: string;
  place: SimErrorPlace;
}

export interface SimInput {
  user: string; // JSON text of the sample user's traits
  events: { at: string; type: string; properties: string }[];
  coupons: string; // "POOL: C-1, C-2" per line
  unsubscribed: string[]; // channels the sample user has withdrawn consent for
}

// The sample for a flow: a sample user and one event of the flow's own trigger,
// with the properties and traits its condition and key read (model/simulate.ts).
export function defaultSimInput(flow: Flow): SimInput {
  const sample = sampleFromTrigger(flow);
  return {
    user: JSON.stringify(
      { first_name: 'Ana', email: 'ana@example.com', phone: '+15550100', age: 34, interests: ['education'], paid: false, ...sample.user },
      null,
      2,
    ),
    events: [{ at: '0s', type: flow.trigger.event, properties: JSON.stringify(sample.event) }],
    coupons: '',
    unsubscribed: [],
  };
}

export function parseUser(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export function buildSimRequest(
  input: SimInput,
): { user: Record<string, unknown>; events: SimEvent[]; rows: number[]; coupons: Record<string, string[]>; unsubscribed: string[] } | SimFailure {
  const user = parseUser(input.user);
  if (!user) return { text: 'The sample user is not a JSON object.', place: {} };
  const events: SimEvent[] = [];
  const rows: number[] = [];
  for (const [i, e] of input.events.entries()) {
    if (!e.type.trim()) continue;
    let properties: Record<string, unknown> = {};
    if (e.properties.trim()) {
      const p = parseUser(e.properties);
      if (!p) return { text: `Event ${i + 1}: properties are not a JSON object.`, place: { row: i, cell: 'properties' } };
      properties = p;
    }
    events.push({ at: e.at.trim() || '0s', type: e.type.trim(), properties });
    rows.push(i);
  }
  const coupons: Record<string, string[]> = {};
  for (const line of input.coupons.split('\n')) {
    const m = /^\s*([^:\s]+)\s*:\s*(.*)$/.exec(line);
    if (m) coupons[m[1]] = m[2].split(',').map((c) => c.trim()).filter(Boolean);
  }
  return { user, events, rows, coupons, unsubscribed: input.unsubscribed };
}

interface Props {
  input: SimInput;
  onInput: (i: SimInput) => void;
  onRun: () => void;
  onClear: () => void;
  running: boolean;
  result: SimResult | null;
  error: SimFailure | null;
  emptyReason: string; // why a run with no step took none
}

// Simulate: a sample user and a few events at virtual times, run by the server
// through the runtime's own code with no real delivery.
export function SimulatePanel({ input, onInput, onRun, onClear, running, result, error, emptyReason }: Props) {
  const [open, setOpen] = useState(true);
  const setEvent = (i: number, change: Partial<SimInput['events'][number]>) =>
    onInput({ ...input, events: input.events.map((e, j) => (j === i ? { ...e, ...change } : e)) });
  const userOk = parseUser(input.user) !== null;
  return (
    <div className="panel sim-panel" data-testid="sim-panel">
      <div className="panel-title">
        <span className="type-chip type-flow">Simulate</span>
        <button type="button" className="link" onClick={() => setOpen(!open)}>
          {open ? 'hide inputs' : 'show inputs'}
        </button>
      </div>
      {open && (
        <>
          <div className={`field ${userOk ? '' : 'has-error'}`}>
            <label htmlFor="sim-user">Sample user (traits, JSON)</label>
            <textarea id="sim-user" className="mono" rows={6} value={input.user} spellCheck={false} onChange={(e) => onInput({ ...input, user: e.target.value })} />
            {!userOk && <div className="field-msg error">not a JSON object</div>}
          </div>
          <div className="field">
            <label>Events at virtual times</label>
            <table className="sim-events">
              <thead>
                <tr>
                  <th>at</th>
                  <th>type</th>
                  <th>properties (JSON)</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {input.events.map((e, i) => {
                  const bad = error?.place.row === i ? error.place.cell ?? 'row' : null;
                  return (
                    <Fragment key={i}>
                      <tr className={bad ? 'has-error' : ''}>
                        <td>
                          <input aria-label={`event ${i + 1} at`} aria-invalid={bad === 'at'} className={`mono at ${bad === 'at' ? 'invalid' : ''}`} value={e.at} onChange={(x) => setEvent(i, { at: x.target.value })} />
                        </td>
                        <td>
                          <input aria-label={`event ${i + 1} type`} aria-invalid={bad === 'type'} className={bad === 'type' ? 'invalid' : ''} list={EVENT_TYPES_LIST} value={e.type} onChange={(x) => setEvent(i, { type: x.target.value })} />
                        </td>
                        <td>
                          <input aria-label={`event ${i + 1} properties`} aria-invalid={bad === 'properties'} className={`mono ${bad === 'properties' ? 'invalid' : ''}`} value={e.properties} onChange={(x) => setEvent(i, { properties: x.target.value })} />
                        </td>
                        <td>
                          <button type="button" className="link" aria-label={`remove event ${i + 1}`} onClick={() => onInput({ ...input, events: input.events.filter((_, j) => j !== i) })}>
                            ✕
                          </button>
                        </td>
                      </tr>
                      {bad && error && (
                        <tr>
                          <td colSpan={4} className="field-msg error" data-testid="sim-event-error" role="alert">
                            {error.text}
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
            <button type="button" onClick={() => onInput({ ...input, events: [...input.events, { at: '1h', type: '', properties: '' }] })}>
              Add event
            </button>
          </div>
          <ConsentToggles unsubscribed={input.unsubscribed} onChange={(unsubscribed) => onInput({ ...input, unsubscribed })} />
          <div className="field">
            <label htmlFor="sim-coupons">Coupon codes per pool (one pool a line: POOL: C-1, C-2)</label>
            <textarea id="sim-coupons" className="mono" rows={2} value={input.coupons} onChange={(e) => onInput({ ...input, coupons: e.target.value })} />
          </div>
        </>
      )}
      <div className="row">
        <button type="button" className="primary" onClick={onRun} disabled={running}>
          {running ? 'Running…' : 'Run simulation'}
        </button>
        {result && (
          <button type="button" onClick={onClear}>
            Clear
          </button>
        )}
      </div>
      {error && error.place.row === undefined && (
        <div className="banner error" data-testid="sim-error" role="alert">
          {error.text}
        </div>
      )}
      {result && (
        <div className="sim-result" data-testid="sim-result">
          <h3>Path</h3>
          {result.steps.length === 0 && result.path.length === 0 && (
            <p className="banner info" data-testid="sim-empty">
              {emptyReason}
            </p>
          )}
          <ol className="sim-path" data-testid="sim-path">
            {result.steps.length > 0
              ? result.steps.map((s, i) => (
                  <li key={i}>
                    <b>{s.node}</b> {s.at !== undefined && <span className="muted">at {String(s.at)}</span>}
                    {s.reason && <StepReason reason={s.reason} />}
                  </li>
                ))
              : result.path.map((n, i) => <li key={i}>{n}</li>)}
          </ol>
          {result.state && <p className="muted">journey {result.state}</p>}
          <h3>Messages ({result.deliveries.length})</h3>
          {result.deliveries.length === 0 ? (
            <p className="muted">none</p>
          ) : (
            <p className="muted small" data-testid="sim-outcomes">
              {outcomeSummary(result.deliveries.map((d) => d.outcome))}
            </p>
          )}
          <ul className="sim-deliveries" data-testid="sim-deliveries">
            {result.deliveries.map((d, i) => (
              <SimMessage key={i} message={d} />
            ))}
          </ul>
          {result.diagnostics.map((d, i) => (
            <div key={i} className={`banner ${d.severity}`}>
              {shownMessage(d)}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

// One simulated message: what it says, and for one a rule held back (deferred by a
// cap or quiet hours, suppressed for lack of consent, dropped), why and until when.
function SimMessage({ message: d }: { message: SimDelivery }) {
  const sent = outcomeSent(d.outcome);
  const release = releaseText(d);
  return (
    <li className={`sim-message outcome-${d.outcome}`} data-channel={d.channel} data-outcome={d.outcome}>
      <span className={`type-chip type-${d.channel}`}>{d.channel}</span> <b>{d.node}</b>
      {d.at !== undefined && <span className="muted"> at {String(d.at)}</span>}
      {d.to && <span className="muted"> to {d.to}</span>}
      {d.outcome !== 'sent' && (
        <span className={`outcome-chip outcome-${d.outcome}`} data-testid="sim-outcome">
          {OUTCOME_LABELS[d.outcome]}
        </span>
      )}
      {(d.outcome === 'deferred' || d.outcome === 'sent-late') && release && (
        <div className="small" data-testid="sim-release">
          {sent ? 'sent at' : 'until'} {release}
        </div>
      )}
      {d.reason && (
        <div className="small sim-reason" data-testid="sim-reason">
          {d.reason}
        </div>
      )}
      {d.subject && <div className="small">{d.subject}</div>}
      {d.body && <div className="small mono">{d.body}</div>}
    </li>
  );
}

// A step's reason, a line per clause; a delivery rule's verdict stands out.
function StepReason({ reason }: { reason: string }) {
  return (
    <div className="sim-step-reason small">
      {reasonParts(reason).map((p, i) => (
        <div key={i} className={p.verdict ? `verdict verdict-${p.verdict}` : 'muted'} data-verdict={p.verdict}>
          {p.text}
        </div>
      ))}
    </div>
  );
}

// The sample user's consent: a channel ticked is one they unsubscribed from, so the
// server's consent rule suppresses its messages as it would in a real run.
function ConsentToggles({ unsubscribed, onChange }: { unsubscribed: string[]; onChange: (u: string[]) => void }) {
  return (
    <div className="field" data-field="consent">
      <label>Sample user unsubscribed from</label>
      <div className="radio-row">
        {CONSENT_CHANNELS.map((c) => (
          <label key={c}>
            <input
              type="checkbox"
              name={`unsubscribed.${c}`}
              checked={unsubscribed.includes(c)}
              onChange={(e) => onChange(e.target.checked ? [...unsubscribed, c] : unsubscribed.filter((x) => x !== c))}
            />
            {c}
          </label>
        ))}
      </div>
    </div>
  );
}
