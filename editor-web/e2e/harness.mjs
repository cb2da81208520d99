// Test harness for the end-to-end run: a real `trellis serve` on a free loopback
// port with a temp database and a temp copy of flows/, and Debian's chromium driven
// by playwright-core. Nothing is downloaded; every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` until it returns a truthy value or `ms` pass; throws with `what`.
export async function until(what, probe, ms = 10000, every = 100) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// Starts `trellis serve` on a temp copy of `flowsDir` (the files `keepFlows` accepts, plus
// `extraFlows`); returns {base, flows, stop, log}.
export async function startServer({ trellis, flowsDir, editorDir, keepFlows = () => true, extraFlows = [] }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-e2e-'));
  const flows = path.join(tmp, 'flows');
  fs.mkdirSync(flows);
  if (fs.existsSync(flowsDir)) {
    for (const f of fs.readdirSync(flowsDir)) {
      if (keepFlows(f) && fs.statSync(path.join(flowsDir, f)).isFile()) fs.copyFileSync(path.join(flowsDir, f), path.join(flows, f));
    }
  }
  for (const f of extraFlows) fs.copyFileSync(f, path.join(flows, path.basename(f)));
  const port = await freePort();
  const logPath = path.join(tmp, 'serve.log');
  const logFd = fs.openSync(logPath, 'a');
  const child = spawn(
    trellis,
    ['serve', '--db', path.join(tmp, 'trellis.db'), '--flows', flows, '--port', String(port), '--editor-dir', editorDir],
    { cwd: tmp, stdio: ['ignore', logFd, logFd] },
  );
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  // Never leave a server behind, whatever way this process ends.
  process.on('exit', () => exited === null && child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  await until(
    'trellis serve /healthz',
    async () => {
      if (exited) throw new Error(`trellis serve exited ${JSON.stringify(exited)}: ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
      const r = await fetch(`${base}/healthz`);
      return r.ok;
    },
    20000,
  );
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await until('trellis serve to stop', () => exited !== null, 10000).catch(() => child.kill('SIGKILL'));
  };
  return { base, tmp, flows, stop, log: () => fs.readFileSync(logPath, 'utf8') };
}

export function runCli(trellis, args) {
  const r = spawnSync(trellis, args, { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

// Launches chromium with a fresh profile; collects console errors and page errors.
export async function openBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1440, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, consoleErrors, close };
}

// What every e2e run checks before it starts: chromium (none: skip), the
// trellis binary and the built editor (missing: fail), a build with `serve`
// (none: skip, not pass); then an empty artifacts folder.
export function preflight({ trellis, editorDist, artifacts }) {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`SKIP: no chromium at ${CHROMIUM}`);
    process.exit(77);
  }
  for (const [what, p] of [
    ['trellis binary', trellis],
    ['built editor', path.join(editorDist, 'index.html')],
  ]) {
    if (!fs.existsSync(p)) {
      console.error(`missing ${what}: ${p}`);
      process.exit(1);
    }
  }
  if (runCli(trellis, ['serve', '--help']).code !== 0) {
    console.log(`SKIP: ${trellis} has no serve command`);
    process.exit(77);
  }
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
}

// A flow of n nodes whose arrows skip levels: segments, waits with an event branch,
// A/B tests, messages, one exit (the same shape as test/layout.test.ts).
export function generatedFlowYaml(n) {
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

// Opens a flow by changing the hash, timed in the page: resolves once its canvas is laid
// out with `node` drawn. The page marks `trellis:navigate` at the hash change and
// `trellis:panel` when the side panel of `node` first shows (after a click), watching
// for both itself, so the harness does not poll the page while the flow opens. With
// `click`, the page itself clicks `node` as soon as the editor marks the flow on screen
// (`trellis:shown`), in a task of its own, so it waits for whatever work the page still
// has: the panel mark then says when a click at that moment was answered, without the
// harness's round trips (which under load were most of the time to a click answered).
export async function openTimed(page, flow, node, ms = 60000, { click = false } = {}) {
  await page.evaluate(
    ({ flow, node, ms, click }) =>
      new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error(`${flow} not laid out with ${node} drawn within ${ms} ms`)), ms);
        performance.clearMarks();
        if (click) {
          new PerformanceObserver((list, o) => {
            if (!list.getEntries().some((e) => e.name === 'trellis:shown')) return;
            o.disconnect();
            setTimeout(() => {
              performance.mark('trellis:click');
              document.querySelector(`.react-flow__node[data-id="${node}"] .fnode-head`).click();
            });
          }).observe({ type: 'mark' });
        }
        const drawn = `[data-testid="canvas"][data-flow="${flow}"][data-layout="ready"] .react-flow__node[data-id="${node}"]`;
        new MutationObserver((_, o) => {
          if (!document.querySelector(drawn)) return;
          o.disconnect();
          resolve();
        }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-layout'] });
        new MutationObserver((_, o) => {
          if (!document.querySelector(`[data-testid="node-panel"][data-node="${node}"]`)) return;
          performance.mark('trellis:panel');
          o.disconnect();
        }).observe(document.body, { childList: true, subtree: true });
        performance.mark('trellis:navigate');
        location.hash = `#/flows/${flow}`;
      }),
    { flow, node, ms, click },
  );
}
