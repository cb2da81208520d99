// Peer comparison (README "Runtime benchmarks"): the cart-reminder workload on
// BullMQ with a local redis-server (AOF, appendfsync everysec: durable to about
// a second, like SQLite WAL with synchronous=NORMAL).
//   node bench.js [EVENTS]
// 1. ingest: each add_to_cart becomes a delayed job (72 h) with jobId = event id
//    (idempotent), added in bulks of 500 by 2 producers: events/s.
// 2. fire: the same number of jobs with a 1 ms delay, processed by a Worker
//    (concurrency 100) that runs a trivial reminder decision: timers fired/s.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Queue, Worker } = require('bullmq');

const N = Number(process.argv[2] || 200000);
const PORT = 20000 + Math.floor(Math.random() * 20000);

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bullmq-'));
  const redis = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const connection = { host: '127.0.0.1', port: PORT };
    const queue = new Queue('cart', { connection });
    await queue.waitUntilReady();

    let next = 0;
    const t0 = Date.now();
    const producer = async () => {
      for (;;) {
        const start = next; next += 500;
        if (start >= N) return;
        const jobs = [];
        for (let i = start; i < Math.min(N, start + 500); i++) {
          jobs.push({ name: 'remind', data: { user: 'u' + i, value: 59, cart_id: 'c' + i },
                      opts: { delay: 72 * 3600 * 1000, jobId: 'e' + i, removeOnComplete: true } });
        }
        await queue.addBulk(jobs);
      }
    };
    await Promise.all([producer(), producer()]);
    const ingest = N / ((Date.now() - t0) / 1000);
    console.log(`bullmq ingest: ${N} delayed jobs, ${ingest.toFixed(0)} events/s`);
    await queue.obliterate({ force: true });

    for (let i = 0; i < N; i += 500) {
      const jobs = [];
      for (let k = i; k < Math.min(N, i + 500); k++) {
        jobs.push({ name: 'remind', data: { user: 'u' + k, age: k % 60, paid: false },
                    opts: { delay: 1, jobId: 'f' + k, removeOnComplete: true } });
      }
      await queue.addBulk(jobs);
    }
    let done = 0;
    const t1 = Date.now();
    await new Promise((resolve) => {
      const worker = new Worker('cart', async (job) => {
        // The reminder's decision: segment, then a message record.
        const d = job.data;
        return d.age > 30 && !d.paid ? { channel: 'email' } : { channel: 'sms' };
      }, { connection, concurrency: 100 });
      worker.on('completed', () => { if (++done === N) { worker.close().then(resolve); } });
    });
    const fire = N / ((Date.now() - t1) / 1000);
    console.log(`bullmq fire: ${N} jobs processed, ${fire.toFixed(0)} timers/s`);
    await queue.close();
  } finally {
    redis.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
