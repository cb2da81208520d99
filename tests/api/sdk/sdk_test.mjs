// Drives the official SDKs, unchanged, against a real `trellis serve` on
// loopback: @segment/analytics-node (identify, track, page, alias, batch
// flushes, an anonymous visitor who later identifies, retries across a
// SIGKILL of serve) and cloudevents (binary, structured and batched modes).
// The Segment session is the scenario file
// tests/runtime/scenarios/segment_session.test.yaml (JSON, which YAML reads
// too): `trellis test` runs it in runtime_scenarios_cli, and this test sends
// its events through the SDK and expects the same deliveries.
//
// Exit codes: 0 passed, 1 failed, 77 skipped (no `trellis` binary or no
// node_modules; scripts/install-sdk-tests.sh installs them with npm ci).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const scenarioDir = join(root, 'tests', 'runtime', 'scenarios');
const TOKEN = 'write-key-of-the-sdk-test';
const trellis = process.env.TRELLIS_BIN;

if (!trellis || !existsSync(trellis) || !existsSync(join(here, 'node_modules'))) {
  console.log('sdk test skipped: set TRELLIS_BIN and run scripts/install-sdk-tests.sh');
  process.exit(77);
}
const { Analytics } = await import('@segment/analytics-node');
const { CloudEvent, HTTP, CONSTANTS } = await import('cloudevents');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A `trellis serve` over `dir` (its SQLite file and flows/), with the token.
class Serve {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
  }
  async start() {
    this.proc = spawn(trellis, ['serve', '--db', join(this.dir, 'trellis.db'),
      '--flows', join(this.dir, 'flows'), '--port', String(this.port), '--token', TOKEN,
      '--adapter', 'none', '--editor-dir', '', '--log-requests', 'off'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    for (let i = 0; i < 200; ++i) {
      try {
        if ((await fetch(`${this.base}/healthz`)).ok) return;
      } catch { /* not listening yet */ }
      if (this.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`serve did not start:\n${this.stderr}`);
  }
  async kill(signal = 'SIGKILL') {
    this.proc.kill(signal);
    await this.exited;
  }
  async request(method, path, body, headers = {}) {
    const r = await fetch(this.base + path, {
      method,
      // The SDK's own content-type header (any case) replaces the default.
      headers: Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
        ? { Authorization: `Bearer ${TOKEN}`, ...headers }
        : { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }
  async get(path) {
    const r = await this.request('GET', path);
    assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

function folderWith(flows) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-sdk-'));
  mkdirSync(join(dir, 'flows'));
  for (const f of flows) copyFileSync(join(scenarioDir, f), join(dir, 'flows', f.split('/').pop()));
  return dir;
}

function newAnalytics(serve, extra = {}) {
  const analytics = new Analytics({ writeKey: TOKEN, host: serve.base, flushInterval: 50, ...extra });
  const seen = { errors: [], requests: [] };
  analytics.on('error', (e) => seen.errors.push(e));
  analytics.on('http_request', (r) => seen.requests.push(r));
  return { analytics, seen };
}

// The scenario's events as the SDK's calls. Users named `anon-*` are visitors
// not yet identified: they are sent as anonymousId only.
function sendThroughSegment(analytics, event) {
  const { at, type, user, ...fields } = event;
  const who = user.startsWith('anon-') ? { anonymousId: user } : { userId: user };
  if (type === 'identify') {
    // The visitor who identifies carries the anonymous id it had.
    const { anonymous_id, ...traits } = fields;
    analytics.identify({ ...who, anonymousId: anonymous_id, traits });
  } else if (type === 'alias') {
    analytics.alias({ userId: user, previousId: fields.previous_id });
  } else if (type === 'page') {
    const { name, ...properties } = fields;
    analytics.page({ ...who, name, properties });
  } else {
    const { context, ...properties } = fields;
    analytics.track({ ...who, event: type, properties, context });
  }
}

const deliveryKey = (d) => `${d.channel}|${d.user_id ?? d.user}|${d.node}|${d.body}`;

async function segmentSession() {
  const scenario = JSON.parse(readFileSync(join(scenarioDir, 'segment_session.test.yaml'), 'utf8'));
  const dir = folderWith(scenario.flows);
  const serve = new Serve(dir, await freePort());
  await serve.start();
  try {
    for (const [user, traits] of Object.entries(scenario.users))
      assert.equal((await serve.request('PUT', `/v1/users/${user}`, traits)).status, 200);
    const { analytics, seen } = newAnalytics(serve, { flushAt: 4 });
    for (const event of scenario.events) sendThroughSegment(analytics, event);
    await analytics.closeAndFlush({ timeout: 20000 });
    assert.deepEqual(seen.errors, [], 'the SDK reported failed deliveries');
    assert.ok(seen.requests.length >= 2, 'the SDK flushed in more than one batch');
    for (const r of seen.requests) assert.equal(new URL(r.url).pathname, '/v1/batch');

    // The journeys the SDK's events started made exactly the scenario's deliveries.
    const { deliveries } = await serve.get('/v1/deliveries');
    assert.deepEqual(deliveries.map(deliveryKey).sort(), scenario.expect.map(deliveryKey).sort());
    assert.equal((await serve.get('/v1/users/u-7')).traits.plan, 'pro');
    // identify merged the visitor into u-7: its journey is u-7's now.
    const flows = (await serve.get('/v1/users/u-7/journeys')).journeys.map((j) => j.flow).sort();
    assert.deepEqual(flows, ['segment_checkout', 'segment_pricing']);
    assert.equal((await serve.request('GET', '/v1/users/anon-7/journeys')).status, 404);
    const types = (await serve.get('/v1/events/recent-types')).types.map((t) => t.type);
    for (const t of ['page', 'Product Viewed', 'identify', 'alias', 'Order Completed'])
      assert.ok(types.includes(t), `event type ${t} arrived`);

    // CloudEvents, the three modes, to the same server.
    for (const user of ['c-1', 'c-2', 'c-3', 'c-4'])
      await serve.request('PUT', `/v1/users/${user}`, { phone: '+470000' + user.slice(2) });
    const order = (id, total, attrs) => new CloudEvent({
      id, type: 'Order Completed', source: '/shop', data: { total }, ...attrs });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const binary = HTTP.binary(order('ce-1', 1, { subject: 'c-1' }));
    assert.ok(binary.headers['ce-type'], 'binary mode puts attributes in headers');
    let r = await serve.request('POST', '/v1/events', binary.body, { ...binary.headers, ...auth });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    r = await serve.request('POST', '/v1/events', binary.body, { ...binary.headers, ...auth });
    assert.equal(r.body.duplicates, 1, 'a resent CloudEvent id is a duplicate');
    const structured = HTTP.structured(order('ce-2', 2, { subject: 'order-2', userid: 'c-2' }));
    r = await serve.request('POST', '/v1/events', structured.body, { ...structured.headers, ...auth });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const batch = [order('ce-3', 3, { subject: 'c-3' }), order('ce-4', 4, { subject: 'c-4' })];
    const batchBody = JSON.stringify(batch.map((e) => e.toJSON()));
    const batchHeaders = { 'Content-Type': CONSTANTS.MIME_CE_BATCH, ...auth };
    // The SDK reads the batch back as the same events: the body is well formed.
    assert.equal(HTTP.toEvent({ headers: batchHeaders, body: batchBody }).length, 2);
    r = await serve.request('POST', '/v1/events', batchBody, batchHeaders);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.accepted, 2);
    for (const n of [1, 2, 3, 4]) {
      const { deliveries: mine } = await serve.get(`/v1/deliveries?user=c-${n}`);
      assert.deepEqual(mine.map((d) => d.body), [`Thanks for your order of ${n}`]);
    }
  } finally {
    await serve.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

// SIGKILL of serve while the SDK sends batches: the SDK retries, serve comes
// back on the same file and port, and every event counts exactly once (the
// flow re-enters on every event, so a duplicate would be a second journey).
async function retriesAcrossSigkill() {
  const dir = folderWith(['flows/segment_tick.yaml']);
  const serve = new Serve(dir, await freePort());
  await serve.start();
  const total = 300;
  try {
    const { analytics, seen } = newAnalytics(serve, { maxRetries: 30 });  // default flushAt 15
    let restarted;
    for (let i = 0; i < total; ++i) {
      analytics.track({ userId: `k-${i % 10}`, event: 'Tick', properties: { n: i } });
      if (i % 15 === 14) await sleep(10);
      if (i === 120) {
        await serve.kill('SIGKILL');
        restarted = sleep(400).then(() => serve.start());
      }
    }
    await restarted;
    await analytics.closeAndFlush({ timeout: 60000 });
    assert.deepEqual(seen.errors, [], 'the SDK gave up on some events');
    assert.ok(seen.requests.length > total / 15, `the SDK retried (${seen.requests.length} requests)`);
    const stats = await serve.get('/v1/flows/segment_tick/stats');
    assert.equal(stats.journeys, total, 'every event applied once, none twice');
    const { journeys } = await serve.get('/v1/users/k-3/journeys');
    assert.equal(journeys.length, total / 10);
  } finally {
    await serve.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await segmentSession();
  console.log('ok: Segment session (scenario segment_session) and CloudEvents in three modes');
  await retriesAcrossSigkill();
  console.log('ok: Segment retries across a SIGKILL of serve: nothing lost, nothing twice');
} catch (e) {
  console.error(e);
  process.exit(1);
}
