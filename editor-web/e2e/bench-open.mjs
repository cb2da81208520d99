// Side-by-side benchmark of opening the generated 60-node flow (the one canvas.mjs
// checks) in two or more builds of the editor, so a change is measured against the
// old build under the same load (docs/benchmarks.md#editor):
//
//   cp -r dist /tmp/dist-before   # before the change; rebuild, then:
//   node e2e/bench-open.mjs /tmp/dist-before dist      # RUNS=5 by default
//
// Each build gets its own `trellis serve` and chromium page, warmed up for 4 s; the
// openings alternate between the builds. The first opening of each page includes
// parsing ELK's worker; medians are printed for all runs. Not part of the tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFlowYaml, openBrowser, startServer } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');
const dists = process.argv.slice(2).map((d) => path.resolve(d));
const RUNS = Number(process.env.RUNS ?? 5);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-open-'));
const generated = path.join(tmp, 'generated_60.yaml');
fs.writeFileSync(generated, generatedFlowYaml(60));

const setups = [];
for (const dist of dists) {
  const server = await startServer({ trellis, flowsDir: path.join(repo, 'flows'), editorDir: dist, extraFlows: [generated] });
  const browser = await openBrowser();
  await browser.page.goto(`${server.base}/`);
  await browser.page.getByTestId('flow-list').waitFor();
  setups.push({ dist, server, ...browser, results: [] });
}
await new Promise((r) => setTimeout(r, 4000)); // the warm-up layout at page start

for (let i = 0; i < RUNS; i++) {
  for (const s of setups) {
    const { page } = s;
    await page.goto(`${s.server.base}/#/`);
    await page.getByTestId('flow-list').waitFor();
    await page.evaluate(() => performance.clearMarks());
    const t0 = Date.now();
    await page.goto(`${s.server.base}/#/flows/generated_60`);
    await page.locator('[data-testid="canvas"][data-layout="ready"]').waitFor({ timeout: 120000 });
    await page.locator('.react-flow__node').first().waitFor();
    const laidOut = Date.now() - t0;
    await page.locator('.react-flow__node[data-id="step_1"] .fnode-head').click();
    await page.waitForSelector('[data-testid="node-panel"][data-node="step_1"]');
    const interactive = Date.now() - t0;
    // The editor's own marks (trellis:open … trellis:shown), in ms since the page loaded.
    const marks = await page.evaluate(() =>
      performance
        .getEntriesByType('mark')
        .map((e) => `${e.name.replace('trellis:', '')}@${Math.round(e.startTime)}`)
        .join(' '),
    );
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    s.results.push([laidOut, interactive]);
    console.log(`${s.dist} run ${i}: laid out ${laidOut} ms, interactive ${interactive} ms (load ${load}) ${marks}`);
  }
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const s of setups) {
  const laid = s.results.map((r) => r[0]);
  const inter = s.results.map((r) => r[1]);
  console.log(`${s.dist}: median laid out ${median(laid)} ms, interactive ${median(inter)} ms; all ${JSON.stringify(s.results)}`);
  await s.close();
  await s.server.stop();
}
fs.rmSync(tmp, { recursive: true, force: true });
