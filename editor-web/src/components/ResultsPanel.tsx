// The results dashboard of a deployed flow, in the side panel: the goal and its
// money, charts over time, the A/B results with their intervals and verdict, and a
// drill-down from the box selected on the canvas to its journeys and their traces.
// The editor refreshes the numbers while the panel is open (no reload); every table
// exports as CSV.
import { useEffect, useRef, useState } from 'react';
import * as api from '../api';
import {
  abCsv,
  chartData,
  intervalBar,
  journeysCsv,
  journeysQuery,
  pText,
  percent,
  RANGES,
  scaleOf,
  seriesCsv,
  verdictText,
  type AbResult,
  type JourneyRow,
  type RangeName,
  type Results,
  type TraceStep,
} from '../model/results';
import { rate } from '../model/live';
import { TimeChart } from './TimeChart';

const CHART_WIDTH = 440;

interface Props {
  name: string;
  deployed: boolean;
  results: Results | null;
  error: string | null;
  updatedAt: Date | null;
  range: RangeName;
  onRange: (r: RangeName) => void;
  node?: string; // the box selected on the canvas
  nodeVariants: string[]; // its variants when it is an A/B box
  refresh: number; // bumps on every refresh, so the drill-down follows
}

export function ResultsPanel({ name, deployed, results, error, updatedAt, range, onRange, node, nodeVariants, refresh }: Props) {
  if (!deployed) {
    return (
      <div className="panel results-panel" data-testid="results-panel">
        <p className="muted">Results appear once the flow is deployed and journeys start.</p>
      </div>
    );
  }
  const bucket = RANGES.find((r) => r.name === range)?.bucket ?? 'hour';
  const charts = results ? chartData(results.series) : null;
  const money = (x: number) => x.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return (
    <div className="panel results-panel" data-testid="results-panel">
      <div className="panel-title">
        <span className="type-chip type-flow">Results</span>
        <label className="small">
          <span className="visually-hidden">Time range</span>
          <select aria-label="Time range" value={range} onChange={(e) => onRange(e.target.value as RangeName)}>
            {RANGES.map((r) => (
              <option key={r.name} value={r.name}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        {updatedAt && (
          <span className="muted small" data-testid="results-updated" aria-live="polite">
            updated {updatedAt.toLocaleTimeString()}
          </span>
        )}
      </div>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
      {!results && !error && <p className="muted">Loading…</p>}
      {results && (
        <>
          <p className="results-goal small" data-testid="results-goal">
            {results.goal ? (
              <>
                Goal: <b>{results.goal.event}</b>
                {results.goal.where && <> where {results.goal.where}</>}
                {results.goal.within && <> within {results.goal.within} of entry</>}
                {results.goal.value && <>, value {results.goal.value}</>}
              </>
            ) : (
              'This flow has no goal: conversions, revenue and A/B verdicts need one.'
            )}
          </p>
          <div className="results-tiles" data-testid="results-tiles">
            <Tile label="journeys" value={String(results.stats.journeys)} name="journeys" />
            <Tile label="conversions" value={String(results.stats.conversions)} sub={rate(results.stats.conversions, results.stats.journeys)} name="conversions" />
            <Tile label="revenue" value={money(results.revenue)} name="revenue" />
            <Tile label="cost" value={money(results.cost)} name="cost" />
            <Tile label="ROI" value={results.roi === null ? '–' : `${results.roi.toFixed(1)}×`} name="roi" title={results.roi === null ? 'no cost recorded' : '(revenue − cost) / cost'} />
          </div>

          {results.ab.map((ab) => (
            <AbTable key={ab.node} ab={ab} />
          ))}

          {charts && (
            <section aria-label="Over time">
              <TimeChart id="journeys" title="Journeys entered and converted" data={charts.journeys} bucket={bucket} width={CHART_WIDTH} />
              <TimeChart id="revenue" title="Revenue" data={charts.revenue} bucket={bucket} width={CHART_WIDTH} />
              {charts.messages.series.length > 0 && (
                <TimeChart id="messages" title="Messages sent by channel" data={charts.messages} bucket={bucket} width={CHART_WIDTH} />
              )}
            </section>
          )}

          <div className="row results-export">
            <button type="button" onClick={() => download(`${name}-${range}-series.csv`, seriesCsv(results.series))}>
              Export over time (CSV)
            </button>
            {results.ab.length > 0 && (
              <button type="button" onClick={() => download(`${name}-ab.csv`, abCsv(results.ab))}>
                Export A/B (CSV)
              </button>
            )}
          </div>

          <DrillDown key={node ?? ''} name={name} node={node} variants={nodeVariants} refresh={refresh} />
        </>
      )}
    </div>
  );
}

function Tile({ label, value, sub, name, title }: { label: string; value: string; sub?: string; name: string; title?: string }) {
  return (
    <div className="tile" title={title}>
      <b data-total={name}>{value}</b>
      <span className="muted small">
        {label}
        {sub && <> · {sub}</>}
      </span>
    </div>
  );
}

// Each variant's rate with its 95% interval as a bar on one shared scale, the uplift
// against the control with its interval, and the p-values; the verdict above it says
// "not enough data yet" until every variant has the minimum sample.
function AbTable({ ab }: { ab: AbResult }) {
  const scale = scaleOf(ab);
  return (
    <section className="ab-results" data-testid="ab-results" data-node={ab.node} aria-label={`A/B results of ${ab.node}`}>
      <h3>
        A/B test <span className="mono">{ab.node}</span>
      </h3>
      <div className={`verdict-banner verdict-${ab.verdict}`} data-testid="ab-verdict" data-verdict={ab.verdict} role="status">
        <b>{verdictText(ab)}</b>
        {ab.summary && ab.verdict !== 'not_enough_data' && <div className="small">{ab.summary}</div>}
      </div>
      <table className="results-table">
        <thead>
          <tr>
            <th scope="col">variant</th>
            <th scope="col">journeys</th>
            <th scope="col">conv.</th>
            <th scope="col">rate (95% interval)</th>
            <th scope="col">uplift</th>
            <th scope="col" title="p-value, Holm-adjusted when more than two variants">p</th>
            <th scope="col">revenue / journey</th>
          </tr>
        </thead>
        <tbody>
          {ab.variants.map((v) => {
            const bar = intervalBar(v, scale);
            const ci = v.rateCi ? `${percent(v.rateCi[0])} to ${percent(v.rateCi[1])}` : 'no interval yet';
            return (
              <tr key={v.variant} data-variant={v.variant} className={ab.winner === v.variant ? 'winner' : ''}>
                <th scope="row">
                  {v.variant}
                  {v.variant === ab.control && <span className="muted small"> control</span>}
                </th>
                <td data-cell="journeys">{v.journeys}</td>
                <td data-cell="conversions">{v.conversions}</td>
                <td data-cell="rate">
                  <span>{percent(v.rate)}</span>
                  <div className="ci-track" role="img" aria-label={`${percent(v.rate)}, 95% interval ${ci}`} title={ci}>
                    <div className="ci-bar" style={{ left: `${bar.left}%`, width: `${bar.width}%` }} />
                    <div className="ci-mark" style={{ left: `${bar.mark}%` }} />
                  </div>
                </td>
                <td data-cell="uplift" title={v.upliftCi ? `95% interval ${percent(v.upliftCi[0])} to ${percent(v.upliftCi[1])}` : undefined}>
                  {v.uplift === null ? '–' : `${v.uplift >= 0 ? '+' : ''}${percent(v.uplift)}`}
                  {v.upliftCi && (
                    <div className="muted small">
                      {percent(v.upliftCi[0])} … {percent(v.upliftCi[1])}
                    </div>
                  )}
                </td>
                <td data-cell="p">{pText(v.pAdjusted ?? v.pValue)}</td>
                <td data-cell="rpj">{v.revenuePerJourney.toFixed(2)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

// The server's drill-down filters (docs/http-api.md): journeys now at the box that
// are still under way, waiting there, ended there, or converted.
const STATES = ['', 'live', 'waiting', 'ended', 'converted'];

// The journeys at the selected box, newest first as the server pages them; a row
// opens that journey's trace (GET /v1/journeys/{id}).
function DrillDown({ name, node, variants, refresh }: { name: string; node?: string; variants: string[]; refresh: number }) {
  const [state, setState] = useState('');
  const [variant, setVariant] = useState('');
  const [rows, setRows] = useState<JourneyRow[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  // The first page follows every refresh, unless the user paged on (More): then the
  // list stays as read until a filter changes.
  const paged = useRef(false);
  const filterKey = `${node}|${state}|${variant}`;
  const lastFilter = useRef('');
  useEffect(() => {
    if (!node) return;
    if (lastFilter.current !== filterKey) {
      lastFilter.current = filterKey;
      paged.current = false;
    } else if (paged.current) return;
    let alive = true;
    api.listJourneys(name, journeysQuery({ node, state, variant, limit: 50 })).then(
      (p) => {
        if (!alive) return;
        setRows(p.journeys);
        setNext(p.next);
        setError(null);
      },
      (e: Error) => alive && setError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [name, node, state, variant, refresh, filterKey]);

  if (!node) {
    return <p className="muted small drill-hint">Click a box on the canvas to list the journeys at it and their paths.</p>;
  }
  const more = async () => {
    if (!next) return;
    paged.current = true;
    const p = await api.listJourneys(name, journeysQuery({ node, state, variant, limit: 50, after: next }));
    setRows((r) => [...r, ...p.journeys]);
    setNext(p.next);
  };
  return (
    <section className="drill-down" data-testid="drill-down" data-node={node} aria-label={`Journeys at ${node}`}>
      <h3>
        Journeys now at <span className="mono">{node}</span>
      </h3>
      <div className="row">
        <select aria-label="Journey state" value={state} onChange={(e) => setState(e.target.value)}>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s || 'any state'}
            </option>
          ))}
        </select>
        {variants.length > 0 && (
          <select aria-label="Variant" value={variant} onChange={(e) => setVariant(e.target.value)}>
            <option value="">any variant</option>
            {variants.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        )}
        <button type="button" onClick={() => download(`${name}-${node}-journeys.csv`, journeysCsv(rows))} disabled={rows.length === 0}>
          Export (CSV)
        </button>
      </div>
      {error && <div className="banner error">{error}</div>}
      {rows.length === 0 && !error && <p className="muted small">No journey here yet.</p>}
      {rows.length > 0 && (
        <table className="results-table journeys" data-testid="journey-list">
          <thead>
            <tr>
              <th scope="col">user</th>
              <th scope="col">state</th>
              {variants.length > 0 && <th scope="col">variant</th>}
              <th scope="col">entered</th>
              <th scope="col">converted</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((j) => (
              <JourneyRowView key={j.id} j={j} showVariant={variants.length > 0} open={open === j.id} onToggle={() => setOpen(open === j.id ? null : j.id)} />
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => void more()}>
          More
        </button>
      )}
    </section>
  );
}

function JourneyRowView({ j, showVariant, open, onToggle }: { j: JourneyRow; showVariant: boolean; open: boolean; onToggle: () => void }) {
  const cols = showVariant ? 5 : 4;
  return (
    <>
      <tr data-journey={j.id} data-user={j.userId}>
        <th scope="row">
          <button type="button" className="link" aria-expanded={open} onClick={onToggle}>
            {j.userId}
          </button>
        </th>
        <td>{j.state}</td>
        {showVariant && <td>{j.variant ?? ''}</td>}
        <td className="small">{shortTime(j.enteredAt)}</td>
        <td className="small">
          {j.convertedAt ? shortTime(j.convertedAt) : ''}
          {j.revenue !== undefined && <> · {j.revenue}</>}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={cols}>
            <Trace id={j.id} />
          </td>
        </tr>
      )}
    </>
  );
}

function Trace({ id }: { id: string }) {
  const [steps, setSteps] = useState<TraceStep[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    api.journeyTrace(id).then(
      (t) => alive && setSteps(t.steps),
      (e: Error) => alive && setError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [id]);
  if (error) return <div className="banner error">{error}</div>;
  if (!steps) return <span className="muted small">Loading…</span>;
  return (
    <ol className="trace small" data-testid="journey-trace">
      {steps.map((s) => (
        <li key={s.seq}>
          <b>{s.node}</b> <span className="muted">{shortTime(s.at)}</span>
          {s.reason && <div className="muted">{s.reason}</div>}
        </li>
      ))}
    </ol>
  );
}

function shortTime(t: string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function download(filename: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
