import { describe, expect, it } from 'vitest';
import {
  abCsv,
  chartData,
  chartSummary,
  funnelByNode,
  intervalBar,
  journeyPageFromJson,
  journeysQuery,
  resultsFromJson,
  scaleOf,
  seriesCsv,
  statsQuery,
  toCsv,
  traceFromJson,
  verdictText,
} from '../src/model/results';

// The stats answer of docs/http-api.md for an A/B flow: current fields, then the results.
export const STATS = {
  flow: 'ab_sms_test',
  version: 1,
  journeys: 400,
  live: 10,
  conversions: 52,
  goal: { event: 'order_paid', within: '7d', value: 'event.revenue' },
  revenue: 2600.5,
  cost: 16,
  roi: 161.53,
  nodes: [
    { node: 'split', entered: 400, waiting: 0, exited: 0, converted_after: 0, cost: 0 },
    { node: 'sms_a', entered: 200, waiting: 0, exited: 0, converted_after: 20, cost: 8 },
    { node: 'sms_b', entered: 200, waiting: 0, exited: 0, converted_after: 32, cost: 8 },
  ],
  variants: [
    { node: 'split', variant: 'a', journeys: 200, conversions: 20 },
    { node: 'split', variant: 'b', journeys: 200, conversions: 32 },
  ],
  ab: [
    {
      node: 'split',
      control: 'a',
      min_sample: 100,
      verdict: 'winner',
      winner: 'b',
      summary: 'b converts better than a',
      variants: [
        { variant: 'a', journeys: 200, conversions: 20, rate: 0.1, rate_ci: [0.066, 0.149], revenue: 1000, revenue_per_journey: 5, uplift: null, uplift_ci: null, p_value: null, p_adjusted: null, revenue_p_value: null },
        { variant: 'b', journeys: 200, conversions: 32, rate: 0.16, rate_ci: [0.116, 0.217], revenue: 1600.5, revenue_per_journey: 8.0025, uplift: 0.6, uplift_ci: [-0.05, 1.6], p_value: 0.0421, p_adjusted: 0.0421, revenue_p_value: 0.2 },
      ],
    },
  ],
  funnel: [
    { path: ['split', 'sms_a', 'done'], journeys: 200, reached: [200, 200, 190] },
    { path: ['split', 'sms_b', 'done'], journeys: 200, reached: [200, 200, 200] },
  ],
  series: [
    { start: '2026-12-03T08:00:00Z', entered: 150, exited: 140, converted: 20, revenue: 1000, cost: 6, messages: { sms: { sent: 150, failed: 0, suppressed: 2, deferred: 1, dropped: 0 } } },
    { start: '2026-12-03T09:00:00Z', entered: 250, exited: 250, converted: 32, revenue: 1600.5, cost: 10, messages: { sms: { sent: 250, failed: 1, suppressed: 0, deferred: 0, dropped: 0 }, email: { sent: 3, failed: 0, suppressed: 0, deferred: 0, dropped: 0 } } },
  ],
};

describe('results from the stats API', () => {
  it('reads goal, money, A/B, funnel and series, and keeps the live counts', () => {
    const r = resultsFromJson(STATS);
    expect(r.stats.journeys).toBe(400);
    expect(r.stats.variants.split.b).toEqual({ entered: 200, conversions: 32 });
    expect(r.goal).toEqual({ event: 'order_paid', within: '7d', where: undefined, value: 'event.revenue' });
    expect([r.revenue, r.cost, r.roi]).toEqual([2600.5, 16, 161.53]);
    expect(r.nodes.sms_b).toEqual({ convertedAfter: 32, cost: 8 });
    expect(r.ab[0].variants[1].rateCi).toEqual([0.116, 0.217]);
    expect(r.ab[0].variants[0].uplift).toBeNull();
    expect(r.series[1].messages.email.sent).toBe(3);
  });

  it('gives empty results for an answer without them (older server, no goal)', () => {
    const r = resultsFromJson({ journeys: 3, live: 1, conversions: 0, nodes: [], variants: [], roi: null });
    expect(r.goal).toBeUndefined();
    expect(r.roi).toBeNull();
    expect([r.ab, r.funnel, r.series]).toEqual([[], [], []]);
    expect(resultsFromJson({ ab: [{ node: 'x', verdict: 'bogus', variants: [] }] }).ab[0].verdict).toBe('not_enough_data');
  });
});

describe('the verdict', () => {
  it('says not enough data yet before the minimum sample, with the numbers', () => {
    const ab = resultsFromJson({ ab: [{ node: 's', control: 'a', min_sample: 100, verdict: 'not_enough_data', variants: [{ variant: 'a', journeys: 40 }, { variant: 'b', journeys: 37 }] }] }).ab[0];
    expect(verdictText(ab)).toBe('Not enough data yet: each variant needs 100 journeys (the smallest has 37).');
    expect(verdictText(resultsFromJson(STATS).ab[0])).toBe('Winner: b.');
    expect(verdictText({ ...ab, verdict: 'no_difference' })).toMatch(/^No difference/);
  });

  it('puts every interval on one scale with its estimate inside', () => {
    const ab = resultsFromJson(STATS).ab[0];
    const scale = scaleOf(ab);
    expect(scale.lo).toBeLessThan(0.066);
    expect(scale.hi).toBeGreaterThan(0.217);
    const [a, b] = ab.variants.map((v) => intervalBar(v, scale));
    expect(a.left).toBeGreaterThanOrEqual(0);
    expect(b.left + b.width).toBeLessThanOrEqual(100);
    expect(a.mark).toBeGreaterThan(a.left);
    expect(a.mark).toBeLessThan(a.left + a.width);
    expect(b.left).toBeGreaterThan(a.left); // b's interval sits higher
  });
});

describe('funnel and charts', () => {
  it('counts each arrow once, so paths sharing a beginning do not repeat it', () => {
    // As the server answers: every path starts with all journeys that entered the flow.
    const funnel = resultsFromJson({
      funnel: [
        { path: ['split', 'sms_a', 'done'], journeys: 400, reached: [400, 200, 190] },
        { path: ['split', 'sms_b', 'done'], journeys: 400, reached: [400, 200, 200] },
      ],
    }).funnel;
    const f = funnelByNode(funnel, 400);
    expect(f.split).toEqual({ reached: 400, share: 1 });
    expect(f.sms_a).toEqual({ reached: 200, share: 0.5 });
    expect(f.done.reached).toBe(390);
  });

  it('plots entries, conversions, revenue, cost and messages per channel per bucket', () => {
    const c = chartData(resultsFromJson(STATS).series);
    expect(c.journeys.times).toEqual([Date.parse('2026-12-03T08:00:00Z') / 1000, Date.parse('2026-12-03T09:00:00Z') / 1000]);
    expect(c.journeys.series).toEqual([
      { label: 'entered', values: [150, 250] },
      { label: 'converted', values: [20, 32] },
    ]);
    expect(c.revenue.series.map((s) => s.label)).toEqual(['revenue', 'cost']);
    expect(c.messages.series).toEqual([
      { label: 'email', values: [0, 3] },
      { label: 'sms', values: [150, 250] },
    ]);
    expect(chartSummary('Journeys', c.journeys)).toBe('Journeys over 2 periods: entered 400, converted 52.');
    expect(chartSummary('Journeys', chartData([]).journeys)).toBe('Journeys: no data in this range.');
  });

  it('asks for hours over a day and days in the viewer zone over a week', () => {
    const now = new Date('2026-12-03T09:21:00Z');
    expect(statsQuery('24h', now, 'Europe/Lisbon')).toBe('from=2026-12-02T10%3A00%3A00Z&to=2026-12-03T10%3A00%3A00Z&bucket=hour');
    expect(statsQuery('7d', now, 'Europe/Lisbon')).toBe('from=2026-11-26T10%3A00%3A00Z&to=2026-12-03T10%3A00%3A00Z&bucket=day&tz=Europe%2FLisbon');
  });
});

describe('CSV export', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], ['=SUM(A1)', -3]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n\'=SUM(A1),-3\r\n');
  });

  it('exports the series with a column per channel and outcome, and the A/B table', () => {
    const r = resultsFromJson(STATS);
    const lines = seriesCsv(r.series).trim().split('\r\n');
    expect(lines[0]).toBe('start,entered,exited,converted,revenue,cost,email_sent,email_failed,email_suppressed,email_deferred,email_dropped,email_pending,sms_sent,sms_failed,sms_suppressed,sms_deferred,sms_dropped,sms_pending');
    expect(lines[1]).toBe('2026-12-03T08:00:00Z,150,140,20,1000,6,0,0,0,0,0,0,150,0,2,1,0,0');
    const ab = abCsv(r.ab).trim().split('\r\n');
    expect(ab).toHaveLength(3);
    expect(ab[2]).toBe('split,b,no,200,32,0.16,0.116,0.217,1600.5,8.0025,0.6,-0.05,1.6,0.0421,0.0421,0.2,winner');
  });
});

describe('drill-down', () => {
  it('reads a page of journeys and a trace', () => {
    const page = journeyPageFromJson({
      journeys: [{ id: 'j_1', user_id: 'u1', state: 'completed', node: 'done', variant: 'b', entered_at: '2026-12-03T08:00:00Z', converted_at: '2026-12-03T08:30:00Z', revenue: 40 }],
      next: 'j_1',
    });
    expect(page.journeys[0]).toEqual({ id: 'j_1', userId: 'u1', state: 'completed', node: 'done', variant: 'b', enteredAt: '2026-12-03T08:00:00Z', convertedAt: '2026-12-03T08:30:00Z', revenue: 40 });
    expect(page.next).toBe('j_1');
    expect(journeysQuery({ node: 'sms_b', state: '', limit: 50, after: undefined })).toBe('node=sms_b&limit=50');
    const t = traceFromJson({ id: 'j_1', user_id: 'u1', state: 'active', node: 'wait', entered_at: 't', steps: [{ seq: 1, node: 'split', at: 't', reason: 'variant b' }] });
    expect(t.journey.userId).toBe('u1');
    expect(t.steps).toEqual([{ seq: 1, node: 'split', at: 't', reason: 'variant b' }]);
  });
});
