// End-to-end checks of the canvas (issue 18): every example flow and a generated flow
// of 60 nodes are drawn with no arrow through a box it does not connect and no label
// over a box or another label (measured on the rendered SVG paths and DOM boxes); the
// 60-node flow's open/lay-out/interactive time and the re-check time after typing are
// measured and printed as benchmark figures (README), not asserted.
//
// Needs: TRELLIS_BIN (the built `trellis`), a built editor (dist/), /usr/bin/chromium.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, runCli, startServer, until, CHROMIUM } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const repo = path.resolve(root, '..');
const artifacts = path.join(here, 'artifacts-canvas');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');

if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: no chromium at ${CHROMIUM}`);
  process.exit(77);
}
for (const p of [trellis, path.join(root, 'dist/index.html')]) {
  if (!fs.existsSync(p)) {
    console.error(`missing ${p}`);
    process.exit(1);
  }
}
if (runCli(trellis, ['serve', '--help']).code !== 0) {
  console.log(`SKIP: ${trellis} has no serve command`);
  process.exit(77);
}
fs.rmSync(artifacts, { recursive: true, force: true });
fs.mkdirSync(artifacts, { recursive: true });

// A flow of n nodes whose arrows skip levels: segments, waits with an event branch,
// A/B tests, messages, one exit (the same shape as test/layout.test.ts).
function generatedFlowYaml(n) {
  const ids = Array.from({ length: n - 1 }, (_, i) => `step_${i + 1}`);
  const at = (i) => (i < ids.length ? ids[i] : 'done');
  const lines = ['flow: generated_60', 'trigger:', '  event: signed_up', 're_entry: never', `start: ${ids[0]}`, 'nodes:'];
  ids.forEach((id, i) => {
    lines.push(`  ${id}:`);
    switch (i % 5) {
      case 0:
        lines.push('    type: segment', `    match: user.score > ${i}`, `    yes: ${at(i + 1)}`, `    no: ${at(i + 3)}`);
        break;
      case 1:
        lines.push('    type: wait', '    for: 1h', '    until_event: order_paid', `    next: ${at(i + 1)}`, `    on_event: ${at(i + 4)}`);
        break;
      case 2:
        lines.push('    type: ab', '    variants:', `      a: { weight: 50, next: ${at(i + 1)} }`, `      b: { weight: 50, next: ${at(i + 2)} }`);
        break;
      case 3:
        lines.push('    type: sms', `    text: Message ${i}`, `    next: ${at(i + 1)}`);
        break;
      default:
        lines.push('    type: email', `    subject: Subject ${i}`, '    body: Hi', `    next: ${at(i + 1)}`);
    }
  });
  lines.push('  done:', '    type: exit', '');
  return lines.join('\n');
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-canvas-'));
const generated = path.join(tmp, 'generated_60.yaml');
fs.writeFileSync(generated, generatedFlowYaml(60));
const gen = runCli(trellis, ['check', generated]);
assert.equal(gen.code, 0, `generated flow: ${gen.out}`);

const exampleNames = [
  ...new Set(
    fs
      .readdirSync(path.join(repo, 'flows'))
      .filter((f) => /\.(yaml|flow)$/.test(f) && f !== 'trellis.yaml')
      .map((f) => f.replace(/\.(yaml|flow)$/, '')),
  ),
].sort();

const server = await startServer({
  trellis,
  flowsDir: path.join(repo, 'flows'),
  editorDir: path.join(root, 'dist'),
  extraFlows: [generated],
});
const { page, consoleErrors, close } = await openBrowser();

let passed = 0;
const stages = [];
const figures = [];
async function stage(name, fn) {
  const t0 = Date.now();
  process.stdout.write(`stage ${name} … `);
  await fn();
  await page.screenshot({ path: path.join(artifacts, `${String(stages.length + 1).padStart(2, '0')}-${name}.png`) });
  stages.push(name);
  passed++;
  console.log(`ok (${Date.now() - t0} ms)`);
}

// What the canvas shows, measured in the page: every arrow's path sampled every 4 px
// (in screen coordinates) against every box it does not connect, and every label's
// box against the boxes and the other labels.
async function canvasGeometry() {
  return page.evaluate(() => {
    const inset = 2;
    const boxes = [...document.querySelectorAll('.react-flow__node')].map((n) => ({ id: n.dataset.id, r: n.getBoundingClientRect() }));
    const inside = (p, r) => p.x > r.left + inset && p.x < r.right - inset && p.y > r.top + inset && p.y < r.bottom - inset;
    const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const problems = [];
    const paths = [...document.querySelectorAll('.react-flow__edge path.react-flow__edge-path')];
    let plain = 0;
    for (const p of paths) {
      if (p.dataset.routed !== 'elk') plain++;
      const m = p.getScreenCTM();
      const len = p.getTotalLength();
      const hit = new Set();
      for (let l = 0; l <= len; l += 4) {
        const q = p.getPointAtLength(l);
        const s = { x: m.a * q.x + m.c * q.y + m.e, y: m.b * q.x + m.d * q.y + m.f };
        for (const b of boxes) if (b.id !== p.dataset.source && b.id !== p.dataset.target && inside(s, b.r)) hit.add(b.id);
      }
      for (const id of hit) problems.push(`arrow ${p.id} crosses box ${id}`);
    }
    const labels = [...document.querySelectorAll('.react-flow__edge-textwrapper')].map((g) => ({
      id: g.dataset.labelFor,
      text: g.textContent,
      r: g.querySelector('.react-flow__edge-textbg').getBoundingClientRect(),
    }));
    for (const l of labels) {
      for (const b of boxes) if (meet(l.r, b.r)) problems.push(`label "${l.text}" of ${l.id} over box ${b.id}`);
      for (const o of labels) if (o.id < l.id && meet(l.r, o.r)) problems.push(`label "${l.text}" of ${l.id} over label "${o.text}" of ${o.id}`);
      // The text fits its box (the label was sized for it).
      const t = document.querySelector(`[data-label-for="${CSS.escape(l.id)}"] text`).getBoundingClientRect();
      if (t.width > l.r.width + 1) problems.push(`label "${l.text}" wider than its box`);
    }
    return { problems, arrows: paths.length, plain, labels: labels.length, boxes: boxes.length };
  });
}

async function openFlow(name) {
  await page.goto(`${server.base}/#/flows/${name}`);
  await page.locator('[data-testid="canvas"][data-layout="ready"]').waitFor({ timeout: 15000 });
  await page.locator('.react-flow__node').first().waitFor();
  await page.waitForTimeout(100); // one more frame for the routes of re-measured boxes
}

try {
  await page.goto(`${server.base}/`);
  await page.getByTestId('flow-list').waitFor();

  for (const name of exampleNames) {
    await stage(`geometry-${name}`, async () => {
      await openFlow(name);
      const g = await until(
        `${name} laid out with every arrow routed`,
        async () => {
          const x = await canvasGeometry();
          return x.plain === 0 && x.arrows > 0 ? x : null;
        },
        5000,
      );
      assert.deepEqual(g.problems, [], `${name}: ${g.arrows} arrows, ${g.labels} labels, ${g.boxes} boxes`);
      // The trigger is the entry box, above the start node, with an arrow into it.
      const trigger = await page.locator('.react-flow__node[data-id="__trigger"]').boundingBox();
      const others = await page.locator('.react-flow__node:not([data-id="__trigger"])').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
      assert.ok(trigger.y < Math.min(...others), `${name}: trigger on top`);
      assert.equal(await page.locator('.react-flow__edge path[data-source="__trigger"]').count(), 1);
    });
  }

  await stage('generated-60', async () => {
    await page.goto(`${server.base}/#/`);
    await page.getByTestId('flow-list').waitFor();
    await page.evaluate(() => performance.clearMarks());
    const t0 = Date.now();
    await openFlow('generated_60');
    const laidOut = Date.now() - t0;
    // Interactive: a click on a box opens its panel.
    await page.locator('.react-flow__node[data-id="step_1"] .fnode-head').click();
    await page.waitForSelector('[data-testid="node-panel"][data-node="step_1"]');
    const interactive = Date.now() - t0;
    const marks = await page.evaluate(() => {
      const m = Object.fromEntries(performance.getEntriesByType('mark').map((e) => [e.name, e.startTime]));
      return Math.round(m['trellis:layout-done'] - m['trellis:layout-start']);
    });
    figures.push(`60-node flow: laid out ${laidOut} ms (ELK ${marks} ms of it), interactive ${interactive} ms after opening`);
    assert.equal(await page.locator('.react-flow__node').count(), 61);
    const g = await until('generated flow routed', async () => {
      const x = await canvasGeometry();
      return x.plain === 0 ? x : null;
    }, 5000);
    assert.deepEqual(g.problems, [], `generated_60: ${g.arrows} arrows, ${g.labels} labels`);
    // Every slot is set: 12 segments, 12 waits, 12 A/B tests with 2 each, 23 messages
    // with 1, and the trigger's arrow.
    assert.equal(g.arrows, 12 * 2 * 3 + 23 + 1);
  });

  await stage('recheck-after-typing', async () => {
    // Type a broken condition into step_1; the time from the last key to the
    // checker's verdict on screen is the re-check latency.
    const match = page.locator('[name="match"]');
    await match.fill('');
    await page.evaluate(() => {
      window.__lastKey = 0;
      window.__verdict = 0;
      document.addEventListener('keydown', () => (window.__lastKey = performance.now()), true);
      const el = document.querySelector('[data-testid="problems"]');
      new MutationObserver(() => {
        if (/error/.test(el.textContent) && !window.__verdict) window.__verdict = performance.now();
      }).observe(el, { childList: true, subtree: true, characterData: true });
    });
    await match.pressSequentially('user.score >', { delay: 40 });
    await until('the checker reports the broken condition', () => page.evaluate(() => window.__verdict > 0), 5000);
    const ms = await page.evaluate(() => Math.round(window.__verdict - window.__lastKey));
    figures.push(`re-check after the last key: ${ms} ms`);
    assert.ok(ms > 0);
  });

  assert.deepEqual(consoleErrors, [], 'no console errors');
} catch (e) {
  console.error(`\nFAILED after stages [${stages.join(', ')}]: ${e.stack ?? e}`);
  try {
    await page.screenshot({ path: path.join(artifacts, 'failure.png') });
  } catch {
    /* a courtesy */
  }
  if (consoleErrors.length) console.error('console errors:\n  ' + consoleErrors.join('\n  '));
  await close().catch(() => {});
  await server.stop();
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
}
await close().catch(() => {});
await server.stop();
fs.rmSync(tmp, { recursive: true, force: true });
for (const f of figures) console.log(`figure: ${f}`);
console.log(`${passed} passed, 0 failed`);
