// End-to-end: Replay next to Simulate, against a real `trellis serve` keeping events
// (flows/trellis.yaml: `retention`). Two carts were left four days ago; u2 paid two days
// later. The live cart_reminder waits 72h, so u2's wait ends on the payment. The draft
// on the canvas waits 24h: the Replay panel shows u2 as the one user whose path differs
// (nudged before paying; live, the payment ends its wait), with both traces. The server's
// outbox stays empty (nothing is sent). Any console error fails the run.
//
// Needs: TRELLIS_BIN (the built `trellis`), a built editor (dist/), /usr/bin/chromium.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, preflight, startServer, until } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const repo = path.resolve(root, '..');
const artifacts = path.join(here, 'artifacts', 'replay');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');

preflight({ trellis, editorDist: path.join(root, 'dist'), artifacts });

const server = await startServer({
  trellis,
  flowsDir: path.join(repo, 'flows'),
  editorDir: path.join(root, 'dist'),
  keepFlows: (f) => f === 'cart_reminder.yaml' || f === 'trellis.yaml',
});
const { page, consoleErrors, close } = await openBrowser();
const api = async (method, p, body) => {
  const r = await fetch(server.base + p, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
};
let shot = 0;
async function stage(name, fn) {
  process.stdout.write(`stage ${name} … `);
  const t0 = Date.now();
  await fn();
  await page.screenshot({ path: path.join(artifacts, `${String(++shot).padStart(2, '0')}-${name}.png`) });
  console.log(`ok (${Date.now() - t0} ms)`);
}
const hour = 3600_000;

try {
  await stage('replay-draft', async () => {
    const t = Date.now() - 96 * hour;
    await api('POST', '/v1/events', [
      { id: 'c1', type: 'add_to_cart', user_id: 'u1', time: new Date(t).toISOString(), properties: { value: 59, cart_id: 'k1' } },
      { id: 'c2', type: 'add_to_cart', user_id: 'u2', time: new Date(t).toISOString(), properties: { value: 80, cart_id: 'k2' } },
      { id: 'p2', type: 'order_paid', user_id: 'u2', time: new Date(t + 48 * hour).toISOString() },
    ]);
    await page.goto(`${server.base}/#/flows/cart_reminder`);
    await page.locator('[data-testid="canvas"][data-layout="ready"]').waitFor({ timeout: 60000 }); // a bound, not a speed check: slow under load
    // The draft: wait_pay waits 24h instead of 72h.
    await page.locator('.react-flow__node[data-id="wait_pay"] .fnode-head').click();
    const wait = page.locator('[data-testid="node-panel"][data-node="wait_pay"] [name="for"]');
    await wait.fill('24'); // hours: the widget shows 72h as 72 and a unit
    await wait.press('Tab');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const panel = page.getByTestId('replay-panel');
    await panel.waitFor();
    await panel.getByTestId('replay-run').click();
    await panel.getByTestId('replay-result').waitFor({ timeout: 30000 });
    assert.equal(await panel.getByTestId('replay-differing').textContent(), '1');
    const row = async (label) => (await panel.locator(`[data-testid="replay-compare"] tr[data-row="${label}"] td`).allTextContents()).slice(1);
    assert.deepEqual(await row('journeys'), ['2', '2', '']);
    // order_paid is the goal: u2's draft journey had ended by then and still converts (the goal's window).
    assert.deepEqual(await row('conversions'), ['1', '1', '']);
    const user = panel.locator('[data-testid="replay-user"][data-user="u2"]');
    await user.locator('summary').click();
    const live = await user.getByTestId('replay-trace-live').textContent();
    const draft = await user.getByTestId('replay-trace-draft').textContent();
    assert.match(live, /wait_pay \(exited\)/); // exit_on: order_paid
    assert.match(draft, /wait_pay → pick → nudge/);
    // Nothing was sent by the replay.
    await until('outbox still empty', async () => (await api('GET', '/v1/deliveries')).deliveries.length === 0, 2000);
  });
  assert.deepEqual(consoleErrors, []);
  console.log('replay e2e: all stages passed');
} catch (e) {
  console.error(e);
  console.error(server.log().slice(-3000));
  process.exitCode = 1;
} finally {
  await close();
  await server.stop();
}
