// `npm run bench`: the USSD service against its floor, in one run, on this machine.
//
// A private redis-server on a free port (never the developer's Redis). Each target runs in its
// own child process and the load generator in this one: the server does not share an event loop
// with its client, and all three (server, load generator, Redis) compete for the same cores, so
// the table shows the CPU each used. Both targets get the same load shape: `concurrency`
// subscribers, each walking whole sessions (new session, then 4 hops, each waiting for its
// reply), measured for `duration` s after `warmup` s.
import { parseArgs } from 'node:util';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../scripts/lib/private-redis.mjs';
import { startTarget, type RunningTarget, type TargetStats } from './lib/children.js';
import { percentile, runLoad, type Hop, type LoadResult } from './lib/load.js';
import { sessionKeys, type KeySize } from './lib/session-size.js';
import { inclusiveShare, summarise } from './lib/profile-summary.js';

const USAGE = `usage: npm run bench -- [--duration 15] [--concurrency 50] [--warmup 3] [--rounds 3] [--log-level info] [--profile]

  --duration <s>      measured seconds per target (default 15)
  --rounds <n>        the measured time is split into n alternating service/floor segments
                      (default 3), so load from other work on the machine hits both alike
  --concurrency <n>   concurrent sessions (default 50)
  --warmup <s>        unmeasured seconds before each measurement (default 3)
  --log-level <l>     the service's LOG_LEVEL; its logs go to /dev/null (default info: the
                      one-line-per-hop log is part of the real cost)
  --profile           CPU-profile the service (node --cpu-prof into bench/out/) and print where
                      its time went, by package and by function`;

const PREFIX = { service: 'bench:', floor: 'benchfloor:' };
const PROFILE_DIR = fileURLToPath(new URL('./out/', import.meta.url));
const SAMPLE_PHONE = '+254712999999';

function options() {
  let v;
  try {
    v = parseArgs({
      options: {
        duration: { type: 'string', default: '15' },
        concurrency: { type: 'string', default: '50' },
        warmup: { type: 'string', default: '3' },
        rounds: { type: 'string', default: '3' },
        'log-level': { type: 'string', default: 'info' },
        profile: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, s: string, min: number, max: number) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min || n > max) {
      console.error(`bench: --${name} must be a number from ${min} to ${max}`);
      process.exit(2);
    }
    return n;
  };
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(v['log-level'])) {
    console.error(`bench: --log-level must be one of ${levels.join(', ')}`);
    process.exit(2);
  }
  return {
    durationS: num('duration', v.duration, 1, 3600),
    concurrency: Math.round(num('concurrency', v.concurrency, 1, 5000)),
    warmupS: num('warmup', v.warmup, 0, 600),
    rounds: Math.round(num('rounds', v.rounds, 1, 100)),
    logLevel: v['log-level'],
    profile: v.profile,
  };
}

const pad6 = (n: number) => String(n % 1_000_000).padStart(6, '0');

/**
 * The session every subscriber walks: Buy airtime → Other number → a number → KES 100, landing
 * on the confirmation screen. Every reply is CON; no money action runs. Each session has its
 * own subscriber number: an unfinished session leaves a resume offer for its phone, which would
 * otherwise change the next session's first screen.
 */
function airtimeSession(tag: string, n: number, phone = `+254712${pad6(n)}`): { sessionId: string; phone: string; texts: string[] } {
  const other = `0733${pad6(n)}`;
  return { sessionId: `bench-${tag}-${n}`, phone, texts: ['', '1', '1*2', `1*2*${other}`, `1*2*${other}*100`] };
}

function formBody(sessionId: string, phone: string, text: string): string {
  return new URLSearchParams({ sessionId, serviceCode: '*860*30#', phoneNumber: phone, networkCode: '63902', text }).toString();
}

/**
 * Walks one session by hand before the load: proves the path still exists in menus/main.yaml
 * (every reply CON and a new screen each time), gives the reply prefixes the load checks, and
 * leaves a record of 4 hops in Redis to measure.
 */
async function sampleSession(url: string, tag: string): Promise<{ sessionId: string; screens: string[] }> {
  const s = airtimeSession(`${tag}-sample`, 0, SAMPLE_PHONE);
  const screens: string[] = [];
  for (const text of s.texts) {
    const res = await fetch(`${url}/ussd`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody(s.sessionId, s.phone, text),
    });
    const body = await res.text();
    if (res.status !== 200 || !body.startsWith('CON ') || screens.includes(body)) {
      throw new Error(`the benchmark's path (text "${text}") got HTTP ${res.status} ${JSON.stringify(body)}: has menus/main.yaml changed?`);
    }
    screens.push(body);
  }
  return { sessionId: s.sessionId, screens };
}

interface Measured {
  load: LoadResult;
  serverCpu: number; // fraction of one core during the measurement
  redisCpu: number;
  loadGenCpu: number;
  stats: TargetStats;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string) => Number(new RegExp(`(?:^|\\n)${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
}

/** One measured segment; the caller alternates targets and adds segments up with combine(). */
async function measure(target: RunningTarget, redis: Redis, o: ReturnType<typeof options> & { segmentS: number; segmentWarmupS: number }, session: (n: number) => Hop[]): Promise<Measured> {
  if (interrupt.signal.aborted) throw new Error('interrupted');
  let before: { child: TargetStats; redis: number; self: NodeJS.CpuUsage } | undefined;
  let after: typeof before;
  const snap = async () => ({ child: await target.stats(), redis: await redisCpuSeconds(redis), self: process.cpuUsage() });
  const load = await runLoad({
    url: target.url,
    path: '/ussd',
    concurrency: o.concurrency,
    warmupS: o.segmentWarmupS,
    durationS: o.segmentS,
    session,
    signal: interrupt.signal,
    onMeasure: async (phase) => {
      if (phase === 'start') before = await snap();
      else after = await snap();
    },
  });
  const b = before!;
  const a = after!;
  const us = load.seconds * 1e6;
  return {
    load,
    serverCpu: (a.child.cpuUserUs + a.child.cpuSystemUs - b.child.cpuUserUs - b.child.cpuSystemUs) / us,
    redisCpu: (a.redis - b.redis) / load.seconds,
    loadGenCpu: (a.self.user + a.self.system - b.self.user - b.self.system) / us,
    stats: a.child,
  };
}

function combine(parts: Measured[]): Measured {
  const sum = (f: (m: Measured) => number) => parts.reduce((a, m) => a + f(m), 0);
  const seconds = sum((m) => m.load.seconds);
  const lat = new Float64Array(sum((m) => m.load.latencies.length));
  let at = 0;
  for (const m of parts) { lat.set(m.load.latencies, at); at += m.load.latencies.length; }
  lat.sort();
  const last = parts.at(-1)!;
  return {
    load: {
      requests: sum((m) => m.load.requests), sessions: sum((m) => m.load.sessions), errors: sum((m) => m.load.errors),
      errorSamples: parts.flatMap((m) => m.load.errorSamples).slice(0, 5), seconds, latencies: lat,
    },
    // CPU shares are per measured second: weight each segment by its length.
    serverCpu: sum((m) => m.serverCpu * m.load.seconds) / seconds,
    redisCpu: sum((m) => m.redisCpu * m.load.seconds) / seconds,
    loadGenCpu: sum((m) => m.loadGenCpu * m.load.seconds) / seconds,
    stats: { ...last.stats, maxRss: Math.max(...parts.map((m) => m.stats.maxRss)) },
  };
}

// ── report ──────────────────────────────────────────────────────────
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${Math.round(n * 100)}%`;
const mb = (n: number) => (n / 1024 / 1024).toFixed(0);

function table(rows: string[][], right: boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

function resultRow(name: string, m: Measured): string[] {
  const l = m.load;
  return [
    name, int(l.requests), int(l.requests / l.seconds), int(l.sessions),
    f1(percentile(l.latencies, 0.5)), f1(percentile(l.latencies, 0.9)), f1(percentile(l.latencies, 0.99)), f1(l.latencies.at(-1) ?? NaN),
    int(l.errors), pct(m.serverCpu), int((m.serverCpu * 1e6 * l.seconds) / (l.requests || 1)), pct(m.redisCpu), pct(m.loadGenCpu), mb(m.stats.rss), mb(m.stats.maxRss),
  ];
}

function report(o: ReturnType<typeof options>, svc: Measured, floor: Measured, keys: KeySize[], sessionId: string, load0: number): void {
  const header = ['target', 'requests', 'req/s', 'sessions', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'server CPU', 'CPU µs/req', 'redis CPU', 'loadgen CPU', 'RSS MB', 'peak RSS MB'];
  console.log('');
  console.log(table([header, resultRow('service', svc), resultRow('floor', floor)], header.map((_, i) => i > 0)));
  const ratio = svc.load.requests / svc.load.seconds / (floor.load.requests / floor.load.seconds);
  const p99 = percentile(svc.load.latencies, 0.99);
  console.log('');
  console.log(`throughput ratio service/floor: ${ratio.toFixed(2)}x   (target >= 0.80x: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  console.log(`service p99: ${f1(p99)} ms             (target < 25 ms: ${p99 < 25 ? 'met' : 'NOT met'})`);
  for (const [name, m] of [['service', svc], ['floor', floor]] as const) {
    if (m.load.errors > 0) console.log(`${name} errors, first ones: ${m.load.errorSamples.join(' | ')}`);
  }
  console.log('');
  const rec = keys.filter((k) => k.key.includes(sessionId));
  const perPhone = keys.filter((k) => !k.key.includes(sessionId));
  const sum = (ks: KeySize[], f: 'payload' | 'memory') => ks.reduce((s, k) => s + k[f], 0);
  console.log(`one session in Redis after 4 hops (session ${sessionId}, phone ${SAMPLE_PHONE}):`);
  console.log(table([
    ['key', 'type', 'payload B', 'MEMORY USAGE B', 'TTL s'],
    ...keys.map((k) => [k.key, k.type, int(k.payload), int(k.memory), String(k.ttl)]),
  ], [false, false, true, true, true]));
  console.log(`session record: ${int(sum(rec, 'payload'))} B payload, ${int(sum(rec, 'memory'))} B in Redis (goal < 2,048 B)` +
    (perPhone.length ? `; per-phone keys: ${int(sum(perPhone, 'memory'))} B` : ''));
  console.log('');
  console.log(`load average before the run: ${load0.toFixed(2)} (${cpus().length} CPUs); after: ${loadavg()[0]!.toFixed(2)}`);
  console.log(`CPU columns: share of one core during the measured ${o.durationS} s; RSS is the target process's.`);
  console.log('CPU µs/req: CPU time of each target per request, the steadier comparison when other work shares the cores.');
}

function printProfile(pid: number): void {
  // One profile per thread (tsx's loader runs in a worker): the main thread is thread 0.
  const file = readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.0.`))
    .map((f) => join(PROFILE_DIR, f))[0];
  if (!file) {
    console.log('\nno CPU profile was written (did the service exit cleanly?)');
    return;
  }
  const p = summarise(file);
  console.log(`\nservice CPU profile (${file}; whole run incl. start-up and warm-up; idle ${pct(p.idle)}), share of busy time:`);
  console.log(table([['package / area', 'self'], ...p.byArea.map((a) => [a.name, pct(a.share)])], [false, true]));
  console.log('');
  console.log(table([['hottest functions', 'self'], ...p.byFunction.map((a) => [a.name, pct(a.share)])], [false, true]));
  // The drop-off funnel counts on every hop: its whole cost (callees included) as a share of the
  // service's busy CPU, i.e. of each hop.
  console.log(`\nfunnel counting (src/ussd/funnel.ts, callees included): ${(inclusiveShare(file, 'src/ussd/funnel.ts') * 100).toFixed(2)}% of the service's busy CPU`);
}

// ── main ────────────────────────────────────────────────────────────
const interrupt = new AbortController();

async function main(): Promise<void> {
  const o = options();
  const load0 = loadavg()[0]!;
  const tag = Date.now().toString(36);
  console.log(`USSD benchmark: ${o.concurrency} concurrent sessions, ${o.durationS} s measured after ${o.warmupS} s warm-up, per target, in ${o.rounds} alternating round(s)`);
  console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(2)}; service LOG_LEVEL=${o.logLevel} (to /dev/null)`);
  console.log('session: new → 1 Buy airtime → 2 Other number → 0733… → 100 (5 requests, every reply CON, no money action)');
  console.log('floor:   the same requests to a bare Koa handler (general smallBody parser; POST /ussd now reads its body with a strict reader) doing one Redis GET and one SET each');

  let redisServer: PrivateRedis | undefined;
  let redis: Redis | undefined;
  const running = new Set<RunningTarget>();
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    for (const t of running) await t.stop().catch(() => undefined);
    running.clear();
    redis?.disconnect();
    await redisServer?.stop();
  })());
  process.once('SIGINT', () => {
    console.log('\ninterrupted: stopping the load, the targets and the private Redis');
    interrupt.abort();
    void cleanup().finally(() => process.exit(130));
  });

  try {
    redisServer = await startPrivateRedis();
    redis = new Redis(redisServer.url);
    console.log(`private redis-server at ${redisServer.url}`);

    process.stdout.write('service: starting… ');
    const profileArgs = o.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    if (o.profile) mkdirSync(PROFILE_DIR, { recursive: true });
    const svc = await startTarget('service', redisServer.url, PREFIX.service, o.logLevel, profileArgs);
    running.add(svc);
    const sample = await sampleSession(svc.url, tag);
    const keys = await sessionKeys(redis, PREFIX.service, [sample.sessionId, SAMPLE_PHONE.slice(1)]);
    // Each reply's first line up to the first digit identifies the screen without the
    // session's own values: the load counts any other reply as an error.
    const expects = sample.screens.map((s) => s.split('\n')[0]!.replace(/\d.*$/, ''));
    console.log('ready');

    process.stdout.write('floor:   starting… ');
    const floor = await startTarget('floor', redisServer.url, PREFIX.floor, o.logLevel);
    running.add(floor);
    console.log('ready');

    // Alternating segments: a burst of other work on the machine lands on both targets alike,
    // instead of on whichever happened to be measured at the time. Session and phone numbers
    // keep counting across segments (a reused phone would get a resume offer).
    const svcParts: Measured[] = [];
    const floorParts: Measured[] = [];
    let svcNext = 0;
    let floorNext = 0;
    for (let r = 0; r < o.rounds; r++) {
      const seg = { ...o, segmentS: o.durationS / o.rounds, segmentWarmupS: r === 0 ? o.warmupS : Math.min(1, o.warmupS) };
      process.stdout.write(`round ${r + 1}/${o.rounds}: service ${seg.segmentWarmupS + seg.segmentS} s… `);
      const svcBase = svcNext;
      svcParts.push(await measure(svc, redis, seg, (n) => {
        svcNext = Math.max(svcNext, svcBase + n + 1);
        const s = airtimeSession(tag, svcBase + n);
        return s.texts.map((text, i) => ({ body: formBody(s.sessionId, s.phone, text), expect: expects[i]! }));
      }));
      process.stdout.write(`floor ${seg.segmentWarmupS + seg.segmentS} s… `);
      const floorBase = floorNext;
      floorParts.push(await measure(floor, redis, seg, (n) => {
        floorNext = Math.max(floorNext, floorBase + n + 1);
        const s = airtimeSession(`${tag}f`, floorBase + n);
        return s.texts.map((text) => ({ body: formBody(s.sessionId, s.phone, text), expect: 'CON ' }));
      }));
      console.log('done');
    }
    const svcResult = combine(svcParts);
    const floorResult = combine(floorParts);
    await svc.stop();
    running.delete(svc);
    await floor.stop();
    running.delete(floor);

    report(o, svcResult, floorResult, keys, sample.sessionId, load0);
    if (o.profile) printProfile(svc.pid);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    if (interrupt.signal.aborted) return; // the SIGINT handler exits once everything is stopped
    console.error(`\nbench: ${(err as Error)?.message ?? String(err)}`);
    process.exit(1);
  },
);
