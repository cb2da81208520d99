// Side-by-side benchmark of opening the generated 60-node flow (the one canvas.mjs
// checks) in two or more builds of the editor, so a change is measured against the
// old build under the same load (docs/benchmarks.md#editor):
//
//   cp -r dist /tmp/dist-before   # before the change; rebuild, then:
//   node e2e/bench-open.mjs /tmp/dist-before dist      # RUNS=5 by default
//
// Each build gets its own `trellis serve` and chromium page, warmed up for 4 s; the
// openings alternate between the builds. Each run opens the flow twice: *first*, in a
// page loaded again with the browser's storage emptied (no layout, positions or box
// sizes kept: a browser that never opened it) and left WARM_MS to compile ELK's
// worker, then *reopened* (what the first opening kept). Run 0 is printed and left out
// of the medians. Not part of the tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFlowYaml, openBrowser, openTimed, startServer } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');
const dists = process.argv.slice(2).map((d) => path.resolve(d));
const RUNS = Number(process.env.RUNS ?? 5);
// How long a reloaded page is left to compile ELK's worker before a first opening.
const WARM_MS = Number(process.env.WARM_MS ?? 15000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-open-'));
const generated = path.join(tmp, 'generated_60.yaml');
fs.writeFileSync(generated, generatedFlowYaml(60));

const setups = [];
for (const dist of dists) {
  const server = await startServer({ trellis, flowsDir: path.join(repo, 'flows'), editorDir: dist, extraFlows: [generated] });
  const browser = await openBrowser();
  await browser.page.goto(`${server.base}/`);
  await browser.page.getByTestId('flow-list').waitFor();
  setups.push({ dist, server, ...browser, results: { first: [], reopened: [] } });
}
await new Promise((r) => setTimeout(r, 4000)); // the warm-up layout at page start

// One opening, timed in the page from the hash change (harness.mjs openTimed): until
// the flow is on screen (laid out, fitted: the editor's `shown` mark) and until a click
// on a box, issued by the page itself at that mark, has opened its side panel
// (interactive; before 2026-12-03 20:40 UTC the harness clicked, and its round trips
// counted); the wall clock around it is printed too. Also the editor's own marks since
// the hash change.
async function open(s, first) {
  const { page } = s;
  await page.goto(`${s.server.base}/#/`);
  await page.getByTestId('flow-list').waitFor();
  if (first) {
    // A browser that never opened the editor: nothing kept, in storage or in memory;
    // the page loads again and ELK's worker warms up (compiled, a small layout) first.
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.getByTestId('flow-list').waitFor();
    await new Promise((r) => setTimeout(r, WARM_MS));
  }
  const t0 = Date.now();
  await openTimed(page, 'generated_60', 'step_1', 60000, { click: true });
  await page.waitForFunction(() => performance.getEntriesByName('trellis:shown').length > 0, null, { timeout: 60000 });
  const laidOut = Date.now() - t0;
  await page.waitForFunction(() => performance.getEntriesByName('trellis:panel').length > 0, null, { timeout: 60000 });
  const wall = Date.now() - t0;
  const m = await page.evaluate(() => {
    const all = performance.getEntriesByType('mark');
    const t = all.find((e) => e.name === 'trellis:navigate').startTime;
    return Object.fromEntries(all.map((e) => [e.name.replace('trellis:', ''), Math.round(e.startTime - t)]));
  });
  return { shown: m.shown, interactive: m.panel, laidOut, wall, marks: Object.entries(m).map(([k, v]) => `${k}+${v}`).join(' ') };
}

for (let i = 0; i < RUNS; i++) {
  for (const s of setups) {
    for (const first of [true, false]) {
      const r = await open(s, first);
      const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      if (i > 0) s.results[first ? 'first' : 'reopened'].push([r.shown, r.interactive, r.wall]);
      console.log(`${s.dist} run ${i} ${first ? 'first' : 'reopened'}: on screen ${r.shown} ms, interactive ${r.interactive} ms; wall clock ${r.laidOut} / ${r.wall} ms (load ${load}) ${r.marks}`);
    }
  }
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const s of setups) {
  for (const [what, rs] of Object.entries(s.results)) {
    const col = (k) => median(rs.map((r) => r[k]));
    console.log(`${s.dist} ${what}: median on screen ${col(0)} ms, interactive ${col(1)} ms, wall clock to interactive ${col(2)} ms; all [shown, interactive, wall] ${JSON.stringify(rs)}`);
  }
}
for (const s of setups) {
  await s.close();
  await s.server.stop();
}
fs.rmSync(tmp, { recursive: true, force: true });
