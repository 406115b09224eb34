// npm run bench:sms: bulk SMS at scale.
// 1. Writes a CSV of BENCH_NUMBERS (default 1,000,000) numbers in mixed formats with ~8%
//    duplicates and ~2% invalid entries into a temp dir.
// 2. Starts the service (embedded sandbox, workers off) on a private redis-server unless
//    REDIS_URL is set, streams the file to POST /api/sms/bulk and measures the time to validate,
//    de-duplicate, store and enqueue, the batches created and the process's peak RSS.
// 3. Drops those queued batches, then sends a subset (BENCH_SEND_RECIPIENTS, default 100,000)
//    through the workers to the sandbox gateway and measures recipients per second at
//    GATEWAY_RATE_LIMIT_PER_MIN (default here 600 requests/min; the service's default is 60).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import { loadConfig } from '../src/config.js';
import { startService } from '../src/app.js';
import { QUEUE_NAME } from '../src/sms/queue.js';

const N = Number(process.env.BENCH_NUMBERS ?? 1_000_000);
const SEND = Number(process.env.BENCH_SEND_RECIPIENTS ?? 100_000);
const RATE = process.env.GATEWAY_RATE_LIMIT_PER_MIN ?? '600';
const TOKEN = 'bench-api-token-0123456789';

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const rssMb = () => `${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.on('error', () => resolve(false));
  });
}

async function privateRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}`, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

// Valid prefixes spread over the operators; index i maps to a unique number while i/P < 1e6.
const PREFIXES = [
  '700',
  '701',
  '710',
  '711',
  '712',
  '713',
  '720',
  '721',
  '722',
  '723',
  '733',
  '734',
  '735',
  '740',
  '741',
  '757',
  '768',
  '769',
  '790',
  '791',
  '110',
  '111',
  '112',
  '115',
  '100',
  '101',
  '770',
  '771',
  '763',
  '780',
];
const nsnOf = (i: number) => `${PREFIXES[i % PREFIXES.length]}${String(Math.floor(i / PREFIXES.length) % 1_000_000).padStart(6, '0')}`;
const formats = [
  (n: string) => `0${n}`,
  (n: string) => `+254${n}`,
  (n: string) => `254${n}`,
  (n: string) => n,
  (n: string) => `0${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`,
];
const INVALID = ['0712', 'n/a', '+14155550123', '0202345678', '0800123456', '07123456789012', 'O712345678'];

async function writeFile(path: string, n: number): Promise<{ unique: number; dup: number; invalid: number }> {
  const out = createWriteStream(path);
  out.write('name,phone\n');
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let unique = 0;
  let dup = 0;
  let invalid = 0;
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const x = rnd();
    let phone: string;
    if (x < 0.02) {
      phone = INVALID[i % INVALID.length]!;
      invalid++;
    } else if (x < 0.1 && unique > 0) {
      phone = formats[i % formats.length]!(nsnOf(Math.floor(rnd() * unique)));
      dup++;
    } else {
      phone = formats[i % formats.length]!(nsnOf(unique));
      unique++;
    }
    chunk += `c${i},"${phone}"\n`;
    if (chunk.length > 65536) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { unique, dup, invalid };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sms-bench-'));
  let redis: { url: string; proc: ChildProcess } | undefined;
  const rows: Array<[string, string]> = [];
  try {
    const file = join(dir, 'numbers.csv');
    let t = Date.now();
    const gen = await writeFile(file, N);
    rows.push([
      'file',
      `${N.toLocaleString()} lines, ${(statSync(file).size / 1048576).toFixed(1)} MB (generated in ${((Date.now() - t) / 1000).toFixed(1)} s)`,
    ]);
    rows.push(['expected', `${gen.unique.toLocaleString()} unique valid, ${gen.dup.toLocaleString()} duplicates, ${gen.invalid.toLocaleString()} invalid`]);

    if (!process.env.REDIS_URL) redis = await privateRedis();
    const config = loadConfig({
      ...process.env,
      REDIS_URL: process.env.REDIS_URL ?? redis!.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      REDIS_PREFIX: `bench${process.pid}:`,
      API_TOKEN: TOKEN,
      GATEWAY_RATE_LIMIT_PER_MIN: RATE,
      // The embedded sandbox enforces a sandbox account's 60/min and 5,000/day: give it the bench's rate.
      SANDBOX_RATE_LIMIT_PER_MIN: process.env.SANDBOX_RATE_LIMIT_PER_MIN ?? RATE,
      SANDBOX_RATE_LIMIT_PER_DAY: process.env.SANDBOX_RATE_LIMIT_PER_DAY ?? '100000000',
    });
    const svc = await startService(config, { workers: false });
    const before = process.resourceUsage().maxRSS;
    rows.push(['RSS before upload', `${rssMb()} (peak so far ${mb(before)})`]);
    try {
      // Phase 1: validate, de-duplicate, store, enqueue (workers off so nothing competes).
      t = Date.now();
      const res = await fetch(`${svc.url}/api/sms/bulk?message=${encodeURIComponent('Bench: karibu tena, 10% off this week')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
        body: Readable.toWeb(createReadStream(file)) as unknown as RequestInit['body'],
        duplex: 'half',
      } as RequestInit);
      const intake = (await res.json()) as Record<string, number | string>;
      const secs = (Date.now() - t) / 1000;
      if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${JSON.stringify(intake)}`);
      const peak = process.resourceUsage().maxRSS;
      rows.push(['validate+dedupe+enqueue', `${secs.toFixed(1)} s (${Math.round(N / secs).toLocaleString()} numbers/s)`]);
      rows.push(['received / valid', `${Number(intake.received).toLocaleString()} / ${Number(intake.valid).toLocaleString()}`]);
      rows.push(['duplicates / invalid', `${Number(intake.duplicates).toLocaleString()} / ${Number(intake.invalid).toLocaleString()}`]);
      rows.push(['batches created', String(intake.batches)]);
      rows.push(['peak RSS (whole process)', `${mb(peak)} (after: ${rssMb()}; client, server and sandbox in one process)`]);
      if (intake.valid !== gen.unique || intake.duplicates !== gen.dup || intake.invalid !== gen.invalid)
        rows.push(['MISMATCH', 'intake totals differ from the generator']);

      // Phase 2: drop the million's batches, then send a subset through the workers.
      const q = new Queue(QUEUE_NAME, { connection: svc.app.queueConnection(), prefix: svc.app.queuePrefix });
      await q.drain(true);
      await q.close();
      if (SEND <= 0) return;
      const recipients: string[] = [];
      for (let i = 0; i < SEND; i++) recipients.push(`0${nsnOf(i)}`);
      const sendRes = await fetch(`${svc.url}/api/sms/bulk`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'Bench send', recipients }),
      });
      const job = (await sendRes.json()) as { id: string; batches: number };
      if (sendRes.status !== 202) throw new Error(`send job refused: ${JSON.stringify(job)}`);
      const workers = await startService(
        loadConfig({
          ...process.env,
          REDIS_URL: config.REDIS_URL,
          REDIS_PREFIX: config.REDIS_PREFIX,
          GATEWAY_URL: `${svc.url}/sandbox`,
          LOG_LEVEL: config.LOG_LEVEL,
          GATEWAY_RATE_LIMIT_PER_MIN: RATE,
        }),
        { http: false, workers: true, modules: [(await import('../src/sms/module.js')).smsModule()] },
      );
      t = Date.now();
      let s: { state: string; totals: { recipientsSent: number; batchesSent: number; batchesFailed: number } };
      for (;;) {
        const r = await fetch(`${svc.url}/api/sms/bulk/${job.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        s = (await r.json()) as typeof s;
        if (s.state === 'done') break;
        await new Promise((r2) => setTimeout(r2, 250));
      }
      const sendSecs = (Date.now() - t) / 1000;
      await workers.close();
      rows.push([
        'send subset',
        `${SEND.toLocaleString()} recipients in ${job.batches} batches, GATEWAY_RATE_LIMIT_PER_MIN=${RATE}, concurrency ${config.SMS_SENDER_CONCURRENCY}`,
      ]);
      rows.push(['send time', `${sendSecs.toFixed(1)} s, ${s.totals.batchesSent} sent / ${s.totals.batchesFailed} failed`]);
      rows.push([
        'send rate',
        `${Math.round(s.totals.recipientsSent / sendSecs).toLocaleString()} recipients/s (${(s.totals.batchesSent / sendSecs).toFixed(1)} requests/s)`,
      ]);
    } finally {
      await svc.close();
    }
  } finally {
    redis?.proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nbulk SMS benchmark (node ${process.version})`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  }
}

await main();
