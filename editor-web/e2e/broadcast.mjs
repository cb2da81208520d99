// End-to-end: a flow switched to "on a schedule" in the editor against a real
// `trellis serve`. The flow panel's Starts select turns the event trigger into a
// schedule; date, repetition, time zone rule and audience are set; Save writes them to
// the file (which `trellis check` accepts) and the start box says when, how often and
// for whom. Reopened, the panel and the start box show the same. Deployed, the server
// plans the run; moved to a later date and deployed again (the dialog names the change),
// the pending run is withdrawn and the new one planned (docs/flows.md#redeploying-a-broadcast).
// Any console error fails the run.
//
// Needs: TRELLIS_BIN (the built `trellis`), a built editor (dist/), /usr/bin/chromium.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, preflight, runCli, startServer, until } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const repo = path.resolve(root, '..');
const artifacts = path.join(here, 'artifacts', 'broadcast');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');

preflight({ trellis, editorDist: path.join(root, 'dist'), artifacts });

// An event-triggered newsletter the marketer turns into a weekly broadcast.
const extra = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-e2e-flow-')), 'newsletter.yaml');
fs.writeFileSync(
  extra,
  `flow: newsletter
trigger: { event: subscribed }
re_entry: always
start: text
nodes:
  text: { type: sms, text: "This week's news", next: done }
  done: { type: exit }
`,
);
const server = await startServer({
  trellis,
  flowsDir: path.join(repo, 'flows'),
  editorDir: path.join(root, 'dist'),
  keepFlows: (f) => f === 'trellis.yaml',
  extraFlows: [extra],
});
const { page, consoleErrors, close } = await openBrowser();
const api = async (method, p) => {
  const r = await fetch(server.base + p, { method });
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
async function openFlow(name) {
  await page.goto(`${server.base}/#/flows/${name}`);
  // ELK's worker is parsed and compiled on first use: tens of seconds on a loaded box.
  await page.locator(`[data-testid="canvas"][data-flow="${name}"][data-layout="ready"]`).waitFor({ timeout: 120000 });
  await page.getByTestId('flow-panel').waitFor();
}
const panel = () => page.getByTestId('flow-panel');
const startBox = () => page.locator('.react-flow__node[data-id="__trigger"]');
const weekly = `at 2026-12-24 10:00 in each user's time, every week for user.tier == "vip"`;
const runs = async () => (await api('GET', '/v1/flows/newsletter/broadcasts')).broadcasts.map((r) => `${r.run} ${r.state}`);
const deploy = async () => {
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const dialog = page.getByTestId('deploy-confirm');
  await dialog.waitFor();
  const changes = await dialog.locator('[data-testid="deploy-changes"] li').allTextContents();
  await dialog.getByRole('button', { name: 'Deploy now' }).click();
  await dialog.waitFor({ state: 'detached' });
  return changes;
};

try {
  await stage('switch-to-schedule', async () => {
    await openFlow('newsletter');
    assert.match(await startBox().locator('.fnode-summary').textContent(), /^when subscribed/);
    await panel().locator('[name="trigger.starts"]').selectOption('schedule');
    await panel().locator('[name="trigger.schedule"]').fill('2026-12-24 10:00');
    await panel().locator('[name="trigger.every"]').selectOption('week');
    await panel().locator('[name="trigger.in_user_time_zone"]').check();
    await panel().locator('[name="trigger.audience"]').fill('user.tier == "vip"');
    await until('start box says when, how often, for whom', async () => (await startBox().locator('.fnode-summary').textContent()) === weekly, 5000);
    assert.equal(await startBox().locator('.fnode-id').textContent(), 'schedule');
    // Checked while typing: no problem is shown for a valid schedule.
    await page.waitForTimeout(500);
    assert.equal(await page.locator('[data-testid="field-diag"].error').count(), 0);
  });

  await stage('save', async () => {
    await page.getByRole('button', { name: 'Save' }).click();
    await until('saved', async () => (await page.getByTestId('status').textContent()) === 'Saved', 10000);
    const saved = fs.readFileSync(path.join(server.flows, 'newsletter.yaml'), 'utf8');
    assert.match(saved, /schedule: "2026-12-24 10:00"/);
    assert.match(saved, /every: week/);
    assert.match(saved, /in_user_time_zone: true/);
    assert.match(saved, /audience: user\.tier == "vip"/);
    assert.doesNotMatch(saved, /event: subscribed/);
    const check = runCli(trellis, ['check', path.join(server.flows, 'newsletter.yaml')]);
    assert.equal(check.code, 0, check.out);
  });

  await stage('reopen', async () => {
    await page.goto(`${server.base}/#/`);
    await page.getByTestId('flow-list').waitFor();
    await openFlow('newsletter');
    assert.equal(await startBox().locator('.fnode-summary').textContent(), weekly);
    assert.equal(await panel().locator('[name="trigger.starts"]').inputValue(), 'schedule');
    assert.equal(await panel().locator('[name="trigger.schedule"]').inputValue(), '2026-12-24 10:00');
    assert.equal(await panel().locator('[name="trigger.every"]').inputValue(), 'week');
    assert.equal(await panel().locator('[name="trigger.in_user_time_zone"]').isChecked(), true);
    assert.equal(await panel().locator('[name="trigger.audience"]').inputValue(), 'user.tier == "vip"');
  });

  await stage('deploy-and-move', async () => {
    await deploy();
    await until('run planned', async () => JSON.stringify(await runs()) === JSON.stringify(['2026-12-24 10:00 scheduled']), 10000);
    // A week later: the deploy dialog names the change, the pending run gives way.
    await panel().locator('[name="trigger.schedule"]').fill('2026-12-31 10:00');
    await until('start box follows', async () => /^at 2026-12-31 10:00 /.test(await startBox().locator('.fnode-summary').textContent()), 5000);
    const changes = await deploy();
    assert.ok(changes.some((c) => /schedule/.test(c) && c.includes('2026-12-24 10:00') && c.includes('2026-12-31 10:00')), JSON.stringify(changes));
    await until(
      'pending run withdrawn, new one planned',
      async () => JSON.stringify(await runs()) === JSON.stringify(['2026-12-24 10:00 withdrawn', '2026-12-31 10:00 scheduled']),
      10000,
    );
    // v1 is the event-triggered file `serve` deployed at start; v2 the weekly schedule.
    // The label follows the deploy's answer: wait for it rather than read it once.
    await until('header says deployed v3', async () => /deployed v3/.test(await page.getByTestId('version').textContent()), 10000);
  });
  assert.deepEqual(consoleErrors, []);
  console.log('broadcast e2e: all stages passed');
} catch (e) {
  console.error(e);
  console.error(server.log().slice(-3000));
  process.exitCode = 1;
} finally {
  await close();
  await server.stop();
}
