// End-to-end: a running flow's life in the editor against a real `trellis serve`.
// Two carts wait on cart_reminder v1; v2 renames the wait. The History panel shows
// both versions and the changes in words; the migration preview says the journeys
// cannot move from the renamed wait, then, mapped, that 2 would move; applying moves
// them. Pause, Resume, Stop and Archive each confirm with the number of journeys they
// touch, and the server agrees. Any console error fails the run.
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
const artifacts = path.join(here, 'artifacts', 'lifecycle');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');

preflight({ trellis, editorDist: path.join(root, 'dist'), artifacts });

const server = await startServer({
  trellis,
  flowsDir: path.join(repo, 'flows'),
  editorDir: path.join(root, 'dist'),
  keepFlows: (f) => f === 'cart_reminder.yaml',
});
const { page, consoleErrors, close } = await openBrowser();
page.on('dialog', (d) => void d.accept()); // the migration's and rollback's window.confirm
const api = async (method, p, body, type = 'application/json') => {
  const r = await fetch(server.base + p, { method, headers: { 'Content-Type': type }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
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
const texts = (locator) => locator.allTextContents();
const confirmAction = async (button, effect) => {
  await page.getByTestId(button).click();
  const dialog = page.getByTestId('lifecycle-confirm');
  await dialog.waitFor();
  assert.match(await dialog.getByTestId('lifecycle-effect').textContent(), effect);
  if (await dialog.getByTestId('lifecycle-reason').count()) await dialog.getByTestId('lifecycle-reason').fill('e2e');
  await dialog.getByTestId('lifecycle-apply').click();
  await dialog.waitFor({ state: 'detached' });
};
const state = async () => (await api('GET', '/v1/flows/cart_reminder/versions')).state;

try {
  await stage('history-diff', async () => {
    const t = new Date().toISOString();
    await api('POST', '/v1/events', [
      { id: 'c1', type: 'add_to_cart', user_id: 'u1', time: t, properties: { value: 59, cart_id: 'k1' } },
      { id: 'c2', type: 'add_to_cart', user_id: 'u2', time: t, properties: { value: 80, cart_id: 'k2' } },
    ]);
    // Version 2: the wait is renamed and shorter.
    const v1 = fs.readFileSync(path.join(repo, 'flows/cart_reminder.yaml'), 'utf8');
    const v2 = v1.replace('start: wait_pay', 'start: wait_paid').replace('  wait_pay:', '  wait_paid:').replace('for: 72h', 'for: 48h');
    assert.equal((await api('POST', '/v1/flows/cart_reminder/deploy', v2, 'application/yaml')).version, 2);
    await page.goto(`${server.base}/#/flows/cart_reminder`);
    await page.locator('[data-testid="canvas"][data-layout="ready"]').waitFor({ timeout: 60000 }); // a bound, not a speed check: at load 16 the ELK worker script alone took 14 s to arrive
    await page.getByTestId('history').click();
    const panel = page.getByTestId('history-panel');
    await panel.waitFor();
    await until('two versions', async () => (await panel.locator('[data-testid="versions"] tbody tr').count()) === 2, 5000);
    await until('the changes in words', async () => (await panel.locator('[data-testid="history-changes"] li').count()) > 0, 5000);
    const changes = await texts(panel.locator('[data-testid="history-changes"] li'));
    for (const expected of ['flow: start step changed from "wait_pay" to "wait_paid"', 'node `wait_paid` added (Wait)', 'node `wait_pay` removed (Wait)']) {
      assert.ok(changes.includes(expected), `${expected} in ${JSON.stringify(changes)}`);
    }
  });

  await stage('migration-preview', async () => {
    const panel = page.getByTestId('history-panel');
    await panel.getByTestId('migrate-preview').click();
    await panel.getByTestId('migration-blocked').waitFor();
    assert.match(await panel.getByTestId('migration-blocked').textContent(), /2 at wait_pay cannot move: node `wait_pay` is gone in version 2/);
    assert.equal(await panel.getByTestId('migration-summary').textContent(), '0 journeys would move; 2 cannot.');
    await panel.getByTestId('map-wait_pay').fill('wait_paid');
    await panel.getByTestId('migrate-preview').click();
    await until('2 would move', async () => (await panel.getByTestId('migration-summary').textContent()) === '2 journeys would move; 0 cannot.', 5000);
    assert.equal(await panel.getByTestId('migration-move').textContent(), '2 from wait_pay to wait_paid');
    // Previewing moved nothing.
    assert.equal((await api('GET', '/v1/users/u1/journeys')).journeys[0].version, 1);
    await panel.getByTestId('migrate-apply').click();
    await until('moved', async () => (await panel.getByTestId('migration-summary').textContent()) === '2 journeys moved.', 5000);
    const j = (await api('GET', '/v1/users/u1/journeys')).journeys[0];
    assert.equal(j.version, 2);
    assert.equal(j.node, 'wait_paid');
  });

  await stage('pause-resume', async () => {
    await page.getByTestId('history-panel').getByRole('button', { name: 'Close' }).click();
    await page.locator('.react-flow__node').first().waitFor();
    await confirmAction('pause', /^2 journeys are live: they hold where they are/);
    await until('paused badge', async () => (await page.getByTestId('flow-state').textContent()) === 'paused', 5000);
    assert.equal(await state(), 'paused');
    assert.equal(await page.getByTestId('lifecycle-message').textContent(), 'Pause: 2 journeys touched');
    await confirmAction('resume', /^2 journeys are live/);
    await until('active again', async () => (await page.getByTestId('flow-state').count()) === 0, 5000);
    assert.equal(await state(), 'active');
  });

  await stage('stop-archive', async () => {
    await confirmAction('stop', /^2 journeys are live: every one exits now/);
    await until('stopped badge', async () => (await page.getByTestId('flow-state').textContent()) === 'stopped', 5000);
    const stats = await api('GET', '/v1/flows/cart_reminder/stats');
    assert.equal(stats.live, 0);
    const j = (await api('GET', '/v1/users/u2/journeys')).journeys[0];
    const steps = (await api('GET', `/v1/journeys/${j.id}`)).steps;
    assert.equal(steps.at(-1).input, 'stop');
    assert.equal(steps.at(-1).reason, 'flow stopped: e2e');
    await confirmAction('archive', /^0 journeys are live/);
    await until('archived badge', async () => (await page.getByTestId('flow-state').textContent()) === 'archived', 5000);
    assert.deepEqual((await api('GET', '/v1/flows')).flows, []);
  });
  assert.deepEqual(consoleErrors, []);
  console.log('lifecycle e2e: all stages passed');
} catch (e) {
  console.error(e);
  console.error(server.log().slice(-3000));
  process.exitCode = 1;
} finally {
  await close();
  await server.stop();
}
