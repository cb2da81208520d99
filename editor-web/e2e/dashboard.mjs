// End-to-end checks of the results dashboard (issue 16 point 4) in Debian's chromium
// against a real `trellis serve`:
// - seeded: a flow with an A/B split and a goal with revenue is deployed, lapsed
//   customers and their orders are posted as events, and the Results tab shows the
//   journeys, conversions, revenue, the per-variant numbers the server computed, the
//   verdict ("not enough data yet" below the minimum sample), the funnel on the boxes,
//   the drill-down to a user's journey trace and a CSV export;
// - the same tab fed known answers (the API's documented shape, docs/http-api.md,
//   served by the browser's request interception) to check what a small seeded run
//   cannot reach: a winner with interval bars on one scale, charts with one point per
//   bucket and their table view, and a refresh that changes the numbers without a reload.
// Screenshots of each stage go to e2e/artifacts-dashboard/ (git-ignored).
//
// Needs: TRELLIS_BIN (the built `trellis`), a built editor (dist/), /usr/bin/chromium.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, preflight, startServer, until } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const repo = path.resolve(root, '..');
const artifacts = path.join(here, 'artifacts-dashboard');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');
const FLOW = 'dash_ab';

preflight({ trellis, editorDist: path.join(root, 'dist'), artifacts });

const server = await startServer({
  trellis,
  flowsDir: path.join(repo, 'flows'),
  editorDir: path.join(root, 'dist'),
  keepFlows: (f) => f === 'trellis.yaml' || f.startsWith('ab_sms_test.'),
  extraFlows: [path.join(here, 'fixtures', `${FLOW}.yaml`)],
});
const { page, consoleErrors, close } = await openBrowser();
const api = async (method, p, body) => {
  const r = await fetch(server.base + p, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
};
const node = (id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const results = () => page.getByTestId('results-panel');
const total = (name) => results().locator(`[data-total="${name}"]`).textContent();

let passed = 0;
const stages = [];
async function stage(name, fn) {
  const t0 = Date.now();
  process.stdout.write(`stage ${name} … `);
  await fn();
  passed++;
  stages.push(name);
  const file = path.join(artifacts, `${String(passed).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`ok (${Date.now() - t0} ms, ${path.relative(root, file)})`);
}

async function openResults(flow) {
  await page.goto(`${server.base}/#/flows/${flow}`);
  await page.getByTestId('canvas').waitFor();
  // A cold ELK worker (1.6 MB of script) takes seconds on a loaded machine.
  await until('the layout', async () => (await page.getByTestId('canvas').getAttribute('data-layout')) === 'ready', 30000);
  await page.locator('.tabs').getByRole('button', { name: 'Results' }).click();
  await results().waitFor();
}

async function download(button) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), button.click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), 'utf8') };
}

// ---- the known answers (docs/http-api.md's shape) -------------------------------------
function knownStats(round) {
  const hour = Date.UTC(2026, 11, 3, 0) / 1000;
  const series = Array.from({ length: 24 }, (_, i) => ({
    start: new Date((hour + i * 3600) * 1000).toISOString().replace('.000Z', 'Z'),
    entered: i < 20 ? 10 : 0,
    exited: i < 20 ? 9 : 0,
    converted: i < 20 ? 2 : 0,
    revenue: i < 20 ? 50 : 0,
    cost: i < 20 ? 0.9 : 0,
    messages: { sms: { sent: i < 20 ? 9 : 0, failed: 0, suppressed: 0, deferred: 0, dropped: 0, pending: 0 } },
  }));
  const friendly = round === 1 ? [90, 9, 0.1, [0.053, 0.179]] : [450, 45, 0.1, [0.076, 0.131]];
  const urgent = round === 1 ? [90, 15, 0.167, [0.104, 0.256]] : [450, 90, 0.2, [0.166, 0.239]];
  const v = (name, [journeys, conversions, rate, ci], extra) => ({
    variant: name,
    journeys,
    conversions,
    rate,
    rate_ci: ci,
    revenue: conversions * 25,
    revenue_per_journey: (conversions * 25) / journeys,
    uplift: null,
    uplift_ci: null,
    p_value: null,
    p_adjusted: null,
    revenue_p_value: null,
    ...extra,
  });
  const journeys = friendly[0] + urgent[0] + 20;
  return {
    flow: 'ab_sms_test',
    version: 1,
    journeys,
    live: 0,
    conversions: friendly[1] + urgent[1],
    nodes: [
      { node: 'split', entered: journeys, waiting: 0, exited: 0, converted_after: 0, cost: 0 },
      { node: 'sms_friendly', entered: friendly[0], waiting: 0, exited: 0, converted_after: friendly[1], cost: friendly[0] * 0.01 },
      { node: 'sms_urgent', entered: urgent[0], waiting: 0, exited: 0, converted_after: urgent[1], cost: urgent[0] * 0.01 },
      { node: 'done', entered: journeys, waiting: 0, exited: journeys, converted_after: 0, cost: 0 },
    ],
    variants: [],
    messages: [],
    goal: { event: 'order_paid', within: '7d', value: 'event.revenue' },
    revenue: 1000,
    cost: 18,
    roi: 54.56,
    ab: [
      {
        node: 'split',
        control: 'friendly',
        min_sample: 100,
        verdict: round === 1 ? 'not_enough_data' : 'winner',
        winner: round === 1 ? undefined : 'urgent',
        summary: round === 1 ? 'Not enough data yet: 90 of 100 journeys per variant' : 'urgent converts better than friendly (p = 0.0001)',
        variants: [
          v('friendly', friendly),
          v('urgent', urgent, { uplift: round === 1 ? 0.67 : 1.0, uplift_ci: round === 1 ? [-0.2, 2.1] : [0.45, 1.7], p_value: round === 1 ? 0.2 : 0.0001, p_adjusted: round === 1 ? 0.2 : 0.0001, revenue_p_value: 0.01 }),
          v('holdout', [20, 1, 0.05, [0.009, 0.236]], { uplift: -0.5, uplift_ci: [-0.9, 2.0], p_value: 0.6, p_adjusted: 0.6, revenue_p_value: 0.7 }),
        ],
      },
    ],
    // As the server counts: reached[0] is every journey that entered the flow.
    funnel: [
      { path: ['split', 'sms_friendly', 'done'], journeys, reached: [journeys, friendly[0], friendly[0]] },
      { path: ['split', 'sms_urgent', 'done'], journeys, reached: [journeys, urgent[0], urgent[0]] },
      { path: ['split', 'done'], journeys, reached: [journeys, 20] },
    ],
    from: series[0].start,
    to: '2026-12-04T00:00:00Z',
    bucket: 'hour',
    tz: 'UTC',
    series,
  };
}

try {
  // As a user arrives: the flow list first, which starts ELK's worker.
  await page.goto(`${server.base}/#/`);
  await page.getByTestId('flow-list').waitFor();

  await stage('seeded-run', async () => {
    // 30 lapsed customers enter the A/B test; 12 of them order (revenue 10 + i).
    await api('POST', `/v1/flows/${FLOW}/deploy`);
    const users = Array.from({ length: 30 }, (_, i) => `c${i + 1}`);
    const t = new Date().toISOString();
    for (const u of users) await api('PUT', `/v1/users/${u}`, { first_name: u, phone: '+15550100' });
    await api('POST', '/v1/events', users.map((u) => ({ id: `seen-${u}`, type: 'promo_seen', user_id: u, time: t, properties: {} })));
    const buyers = users.slice(0, 12);
    await api(
      'POST',
      '/v1/events',
      buyers.map((u, i) => ({ id: `paid-${u}`, type: 'order_paid', user_id: u, time: new Date().toISOString(), properties: { revenue: 10 + i } })),
    );
    const stats = await api('GET', `/v1/flows/${FLOW}/stats?bucket=hour`);
    assert.equal(stats.journeys, 30);

    await openResults(FLOW);
    await until('30 journeys on the dashboard', async () => (await total('journeys')) === '30', 10000);
    assert.equal(await total('conversions'), String(stats.conversions));
    assert.match(await page.getByTestId('results-goal').textContent(), /Goal: order_paid within 7d of entry, value event.revenue/);
    assert.equal(stats.conversions, 12);
    const revenue = buyers.reduce((s, _, i) => s + 10 + i, 0); // 186
    assert.equal(stats.revenue, revenue);
    assert.equal(await total('revenue'), revenue.toLocaleString('en-US', { minimumFractionDigits: 2 }));
    // Every box shows the funnel: the split is reached by all 30 journeys.
    await until('the funnel on the split', async () => (await node('split').locator('[data-count="reached"]').textContent()) === '30', 10000);
    assert.equal(await node('split').locator('[data-count="share"]').textContent(), '100.0%');
    // The A/B table: the server's numbers per variant, and its verdict in words.
    const table = results().getByTestId('ab-results');
    const ab = stats.ab[0];
    for (const v of ab.variants) {
      const row = table.locator(`tr[data-variant="${v.variant}"]`);
      assert.equal(await row.locator('[data-cell="journeys"]').textContent(), String(v.journeys));
      assert.equal(await row.locator('[data-cell="conversions"]').textContent(), String(v.conversions));
    }
    assert.equal(ab.verdict, 'not_enough_data');
    assert.match(await table.getByTestId('ab-verdict').textContent(), /^Not enough data yet/);
    // This hour's bucket holds all 30 entries.
    const series = await api('GET', `/v1/flows/${FLOW}/stats?bucket=hour&from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    assert.equal(series.series.reduce((n, b) => n + b.entered, 0), 30);

    // Drill-down: the journeys at the exit, one user's trace.
    await node('done').locator('.fnode-head').click();
    const list = results().getByTestId('journey-list');
    await until('journeys at done', async () => (await list.locator('tr[data-journey]').count()) === 30, 10000);
    await list.locator('tr[data-user="c1"] button').click();
    const trace = results().getByTestId('journey-trace');
    await trace.waitFor({ timeout: 5000 });
    assert.match(await trace.textContent(), /split/);
    assert.match(await trace.textContent(), /done/);
    const csv = await download(results().getByTestId('drill-down').getByRole('button', { name: 'Export (CSV)' }));
    assert.equal(csv.name, `${FLOW}-done-journeys.csv`);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'id,user_id,state,node,variant,entered_at,converted_at,revenue');
    assert.equal(lines.length, 31);
  });

  await stage('known-answers', async () => {
    // The results fed from known answers: a verdict that changes on refresh.
    await api('POST', '/v1/flows/ab_sms_test/deploy');
    let round = 1;
    await page.route(/\/v1\/flows\/ab_sms_test\/stats\?/, (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(knownStats(round)) }),
    );
    await openResults('ab_sms_test');
    const table = results().getByTestId('ab-results');
    const verdict = table.getByTestId('ab-verdict');
    await until('the verdict', async () => (await verdict.count()) === 1, 10000);
    assert.equal(await verdict.getAttribute('data-verdict'), 'not_enough_data');
    assert.equal(await verdict.locator('b').textContent(), 'Not enough data yet: each variant needs 100 journeys (the smallest has 20).');
    assert.equal(await total('journeys'), '200');
    assert.equal(await total('revenue'), '1,000.00');
    assert.equal(await total('roi'), '54.6×');
    assert.match(await results().getByTestId('results-goal').textContent(), /Goal: order_paid within 7d of entry, value event.revenue/);
    // Charts: one point per bucket, words for screen readers, the same numbers as a table.
    const chart = results().getByTestId('chart-journeys');
    assert.equal(await chart.locator('[role="img"]').getAttribute('data-points'), '24');
    assert.equal(await chart.locator('[role="img"]').getAttribute('aria-label'), 'Journeys entered and converted over 24 periods: entered 200, converted 40.');
    assert.equal(await chart.locator('canvas').count() >= 1, true, 'uPlot drew a canvas');
    await chart.getByText('Show as a table').click();
    assert.equal(await chart.locator('.chart-table tbody tr').count(), 24);
    assert.equal(await chart.locator('.chart-table tbody tr').first().locator('[data-series="entered"]').textContent(), '10');
    assert.equal(await results().getByTestId('chart-messages').count(), 1);
    // The funnel on the canvas from the answer's paths.
    assert.equal(await node('sms_urgent').locator('[data-count="reached"]').textContent(), '90');
    assert.equal(await node('sms_urgent').locator('[data-count="share"]').textContent(), '45.0%');
    assert.equal(await node('sms_urgent').locator('[data-count="converted-after"]').textContent(), '15');
    assert.equal(await node('split').locator('[data-count="reached"]').textContent(), '200');
    assert.equal(await node('done').locator('[data-count="reached"]').textContent(), '200');
    await page.screenshot({ path: path.join(artifacts, 'not-enough-data.png'), fullPage: true });

    // Live refresh: the next answer has a winner; the page follows without a reload.
    const marker = await page.evaluate(() => (window.__noReload = 1));
    round = 2;
    await until('the winner after a refresh', async () => (await verdict.getAttribute('data-verdict')) === 'winner', 10000);
    assert.equal(await page.evaluate(() => window.__noReload), marker, 'no reload');
    assert.equal(await verdict.locator('b').textContent(), 'Winner: urgent.');
    assert.equal(await total('journeys'), '920');
    const bars = await table.locator('tr[data-variant]').evaluateAll((rows) =>
      rows.map((r) => {
        const track = r.querySelector('.ci-track').getBoundingClientRect();
        const bar = r.querySelector('.ci-bar').getBoundingClientRect();
        const mark = r.querySelector('.ci-mark').getBoundingClientRect();
        return { variant: r.dataset.variant, track, bar, mark: mark.left + mark.width / 2, label: r.querySelector('.ci-track').getAttribute('aria-label') };
      }),
    );
    for (const b of bars) {
      assert.ok(b.bar.left >= b.track.left - 0.5 && b.bar.right <= b.track.right + 0.5, `${b.variant}: bar inside its track`);
      assert.ok(b.mark >= b.bar.left - 1 && b.mark <= b.bar.right + 1, `${b.variant}: estimate inside its interval`);
    }
    const [friendly, urgent] = bars;
    assert.ok(urgent.bar.left > friendly.bar.right, 'the winner’s interval lies above the control’s');
    assert.equal(urgent.label, '20.0%, 95% interval 16.6% to 23.9%');
    const urgentRow = table.locator('tr[data-variant="urgent"]');
    assert.equal(await urgentRow.locator('[data-cell="uplift"]').textContent(), '+100.0%45.0% … 170.0%');
    assert.equal(await urgentRow.locator('[data-cell="p"]').textContent(), '< 0.001');
    // CSV of the A/B table and of the series.
    const ab = await download(results().getByRole('button', { name: 'Export A/B (CSV)' }));
    assert.equal(ab.name, 'ab_sms_test-ab.csv');
    const abLines = ab.text.trim().split('\r\n');
    assert.equal(abLines.length, 4);
    assert.equal(abLines[2], 'split,urgent,no,450,90,0.2,0.166,0.239,2250,5,1,0.45,1.7,0.0001,0.0001,0.01,winner');
    const series = await download(results().getByRole('button', { name: 'Export over time (CSV)' }));
    const seriesLines = series.text.trim().split('\r\n');
    assert.equal(seriesLines.length, 25);
    assert.equal(seriesLines[1], '2026-12-03T00:00:00Z,10,9,2,50,0.9,9,0,0,0,0,0');
    await page.unroute(/\/v1\/flows\/ab_sms_test\/stats\?/);
  });

  assert.deepEqual(consoleErrors, [], 'no console errors');
} catch (e) {
  console.error(`\nFAILED after stages [${stages.join(', ')}]: ${e.stack ?? e}`);
  try {
    await page.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true });
  } catch {
    /* a courtesy */
  }
  if (consoleErrors.length) console.error('console errors:\n  ' + consoleErrors.join('\n  '));
  console.error(`server log (tail):\n${server.log().slice(-3000)}`);
  await close().catch(() => {});
  await server.stop();
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
}
await close().catch(() => {});
await server.stop();
console.log(`${passed} passed, 0 failed`);
