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
import { commandCalls, cpuSeconds, startRedisSide, watch, type RedisKind, type RedisSide, type Watched } from './lib/redis-side.js';
import { startTarget, type RunningTarget, type TargetStats } from './lib/children.js';
import { percentile, runLoad, type Hop, type LoadResult } from './lib/load.js';
import { sessionKeys, type KeySize } from './lib/session-size.js';
import { inclusiveShare, summarise } from './lib/profile-summary.js';
import { buildCompiled, startSandbox, type SandboxProcess } from '../scripts/lib/compiled-build.js';

const USAGE = `usage: npm run bench -- [--build both|tsx|compiled] [--redis single|cluster] [--duration 15] [--concurrency 50] [--warmup 3] [--rounds 3] [--log-level info] [--profile]

  --build <which>     the service as \`npm start\` runs it (tsx), as the production image runs it
                      (compiled: tsc output under bench/out/dist, run by node), or both (default),
                      each measured against the same floor in the same run

  --redis <kind>      single: a private redis-server (default); cluster: a private Redis Cluster
                      of 3 masters and 3 replicas on loopback (every node on this machine's cores)
  --duration <s>      measured seconds per target (default 15)
  --rounds <n>        the measured time is split into n alternating service/floor segments
                      (default 3), so load from other work on the machine hits both alike
  --concurrency <n>   concurrent sessions (default 50)
  --warmup <s>        unmeasured seconds before each measurement (default 3)
  --log-level <l>     the service's LOG_LEVEL; its logs go to /dev/null (default info: the
                      one-line-per-hop log is part of the real cost)
  --profile           CPU-profile each target, the floor too (node --cpu-prof into bench/out/),
                      and print where its time went, by package and by function`;

const PREFIX = { tsx: 'bench:', compiled: 'benchjs:', floor: 'benchfloor:' };
const DIST_DIR = fileURLToPath(new URL('./out/dist/', import.meta.url));
/** The goals (issue "a faster hop"): per service target, against the floor of the same run. */
const GOAL = { throughput: 0.9, p99: 1.25 };
const PROFILE_DIR = fileURLToPath(new URL('./out/', import.meta.url));
const SAMPLE_PHONE = '+254712999999';

function options() {
  let v;
  try {
    v = parseArgs({
      options: {
        build: { type: 'string', default: 'both' },
        redis: { type: 'string', default: 'single' },
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
  if (!['both', 'tsx', 'compiled'].includes(v.build)) {
    console.error('bench: --build must be both, tsx or compiled');
    process.exit(2);
  }
  if (v.redis !== 'single' && v.redis !== 'cluster') {
    console.error('bench: --redis must be single or cluster');
    process.exit(2);
  }
  return {
    builds: (v.build === 'both' ? ['tsx', 'compiled'] : [v.build]) as Array<'tsx' | 'compiled'>,
    redis: v.redis as RedisKind,
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
async function sampleSession(url: string, tag: string, phone = SAMPLE_PHONE): Promise<{ sessionId: string; screens: string[] }> {
  const s = airtimeSession(`${tag}-sample`, 0, phone);
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
  /** Redis commands (inside scripts included) per request */
  redisCmds: number;
  loadGenCpu: number;
  stats: TargetStats;
}

/** One measured segment; the caller alternates targets and adds segments up with combine(). */
async function measure(
  target: RunningTarget,
  redis: RedisSide,
  o: ReturnType<typeof options> & { segmentS: number; segmentWarmupS: number },
  session: (n: number) => Hop[],
): Promise<Measured> {
  if (interrupt.signal.aborted) throw new Error('interrupted');
  let before: { child: TargetStats; redis: number; cmds: number; self: NodeJS.CpuUsage } | undefined;
  let after: typeof before;
  const snap = async () => ({ child: await target.stats(), redis: await cpuSeconds(redis), cmds: await commandCalls(redis), self: process.cpuUsage() });
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
    redisCmds: (a.cmds - b.cmds) / (load.requests || 1),
    loadGenCpu: (a.self.user + a.self.system - b.self.user - b.self.system) / us,
    stats: a.child,
  };
}

function combine(parts: Measured[]): Measured {
  const sum = (f: (m: Measured) => number) => parts.reduce((a, m) => a + f(m), 0);
  const seconds = sum((m) => m.load.seconds);
  const lat = new Float64Array(sum((m) => m.load.latencies.length));
  let at = 0;
  for (const m of parts) {
    lat.set(m.load.latencies, at);
    at += m.load.latencies.length;
  }
  lat.sort();
  const last = parts.at(-1)!;
  return {
    load: {
      requests: sum((m) => m.load.requests),
      sessions: sum((m) => m.load.sessions),
      errors: sum((m) => m.load.errors),
      errorSamples: parts.flatMap((m) => m.load.errorSamples).slice(0, 5),
      seconds,
      latencies: lat,
    },
    // CPU shares are per measured second: weight each segment by its length.
    serverCpu: sum((m) => m.serverCpu * m.load.seconds) / seconds,
    redisCpu: sum((m) => m.redisCpu * m.load.seconds) / seconds,
    redisCmds: sum((m) => m.redisCmds * m.load.requests) / (sum((m) => m.load.requests) || 1),
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
    .map((r) =>
      r
        .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function resultRow(name: string, m: Measured): string[] {
  const l = m.load;
  return [
    name,
    int(l.requests),
    int(l.requests / l.seconds),
    int(l.sessions),
    f1(percentile(l.latencies, 0.5)),
    f1(percentile(l.latencies, 0.9)),
    f1(percentile(l.latencies, 0.99)),
    f1(l.latencies.at(-1) ?? NaN),
    int(l.errors),
    pct(m.serverCpu),
    int((m.serverCpu * 1e6 * l.seconds) / (l.requests || 1)),
    pct(m.redisCpu),
    f1(m.redisCmds),
    pct(m.loadGenCpu),
    mb(m.stats.rss),
    mb(m.stats.maxRss),
  ];
}

const TARGET_NAME = { tsx: 'npm start (tsx)', compiled: 'compiled (node)', floor: 'floor' } as const;

function report(
  o: ReturnType<typeof options>,
  results: Array<{ name: keyof typeof TARGET_NAME; m: Measured }>,
  keys: KeySize[],
  sessionId: string,
  load0: number,
  hops: Watched,
  hopCount: number,
): void {
  const header = [
    'target',
    'requests',
    'req/s',
    'sessions',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'errors',
    'server CPU',
    'CPU µs/req',
    'redis CPU',
    'redis cmds/req',
    'loadgen CPU',
    'RSS MB',
    'peak RSS MB',
  ];
  console.log('');
  console.log(
    table(
      [header, ...results.map((r) => resultRow(TARGET_NAME[r.name], r.m))],
      header.map((_, i) => i > 0),
    ),
  );
  const floor = results.find((r) => r.name === 'floor')!.m;
  const floorRate = floor.load.requests / floor.load.seconds;
  const floorP99 = percentile(floor.load.latencies, 0.99);
  console.log('');
  for (const { name, m } of results) {
    if (name === 'floor') continue;
    const ratio = m.load.requests / m.load.seconds / floorRate;
    const p99 = percentile(m.load.latencies, 0.99) / floorP99;
    console.log(
      `${TARGET_NAME[name].padEnd(16)} throughput ${ratio.toFixed(2)}x the floor (goal >= ${GOAL.throughput}x: ${ratio >= GOAL.throughput ? 'met' : 'NOT met'}); ` +
        `p99 ${p99.toFixed(2)}x the floor's (goal <= ${GOAL.p99}x: ${p99 <= GOAL.p99 ? 'met' : 'NOT met'})`,
    );
  }
  for (const { name, m } of results) {
    if (m.load.errors > 0) console.log(`${TARGET_NAME[name]} errors, first ones: ${m.load.errorSamples.join(' | ')}`);
  }
  console.log('');
  const rec = keys.filter((k) => k.key.includes(sessionId));
  const perPhone = keys.filter((k) => !k.key.includes(sessionId));
  const sum = (ks: KeySize[], f: 'payload' | 'memory') => ks.reduce((s, k) => s + k[f], 0);
  console.log(`one session in Redis after 4 hops (session ${sessionId}, phone ${SAMPLE_PHONE}):`);
  console.log(
    table(
      [['key', 'type', 'payload B', 'MEMORY USAGE B', 'TTL s'], ...keys.map((k) => [k.key, k.type, int(k.payload), int(k.memory), String(k.ttl)])],
      [false, false, true, true, true],
    ),
  );
  console.log(
    `session record: ${int(sum(rec, 'payload'))} B payload, ${int(sum(rec, 'memory'))} B in Redis (goal < 2,048 B)` +
      (perPhone.length ? `; per-phone keys: ${int(sum(perPhone, 'memory'))} B` : ''),
  );
  console.log('');
  const trips = hops.clientCommands.length;
  const byName = Object.entries(hops.clientCommands.reduce<Record<string, number>>((a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }), {}))
    .map(([c, n]) => `${c}×${n}`)
    .join(', ');
  console.log(
    `Redis per hop (MONITOR over the sample session's ${hopCount} hops): ${f1(trips / hopCount)} round trips (${byName}), ` +
      `${f1((trips + hops.scriptCommands) / hopCount)} commands counting those its scripts run`,
  );
  console.log('');
  console.log(`load average before the run: ${load0.toFixed(2)} (${cpus().length} CPUs); after: ${loadavg()[0]!.toFixed(2)}`);
  console.log(`CPU columns: share of one core during the measured ${o.durationS} s; RSS is the target process's.`);
  console.log('CPU µs/req: CPU time of each target per request, the steadier comparison when other work shares the cores.');
}

function printProfile(pid: number, name: string, service: boolean): void {
  // One profile per thread (tsx's loader runs in a worker): the main thread is thread 0.
  const file = readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.0.`))
    .map((f) => join(PROFILE_DIR, f))[0];
  if (!file) {
    console.log('\nno CPU profile was written (did the service exit cleanly?)');
    return;
  }
  const p = summarise(file);
  console.log(`\n${name}: CPU profile (${file}; whole run incl. start-up and warm-up; idle ${pct(p.idle)}), share of busy time:`);
  console.log(table([['package / area', 'self'], ...p.byArea.map((a) => [a.name, pct(a.share)])], [false, true]));
  console.log('');
  console.log(table([['hottest functions', 'self'], ...p.byFunction.map((a) => [a.name, pct(a.share)])], [false, true]));
  // Writing to sockets (HTTP replies, Redis commands) is a system call each time: on a VM it can be
  // most of what a Redis command costs, and the service batches its Redis writes where the floor cannot.
  console.log(`socket writes (system calls for replies and Redis commands): ${pct(p.socketWrites)} of busy time`);
  if (!service) return;
  // The drop-off funnel counts on every hop: its whole cost (callees included) as a share of the
  // service's busy CPU, i.e. of each hop.
  console.log(
    `funnel counting (ussd/funnel, callees included): ${(Math.max(inclusiveShare(file, 'src/ussd/funnel.ts'), inclusiveShare(file, 'dist/ussd/funnel.js')) * 100).toFixed(2)}% of the service's busy CPU`,
  );
}

// ── main ────────────────────────────────────────────────────────────
const interrupt = new AbortController();

async function main(): Promise<void> {
  const o = options();
  const load0 = loadavg()[0]!;
  const tag = Date.now().toString(36);
  console.log(
    `USSD benchmark: ${o.concurrency} concurrent sessions, ${o.durationS} s measured after ${o.warmupS} s warm-up, per target, in ${o.rounds} alternating round(s)`,
  );
  console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(2)}; service LOG_LEVEL=${o.logLevel} (to /dev/null)`);
  console.log('session: new → 1 Buy airtime → 2 Other number → 0733… → 100 (5 requests, every reply CON, no money action)');
  console.log(
    'floor:   the same requests to a bare Koa handler (general smallBody parser; POST /ussd now reads its body with a strict reader) doing one Redis GET and one SET each',
  );

  let redis: RedisSide | undefined;
  const running = new Set<RunningTarget>();
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const t of running) await t.stop().catch(() => undefined);
      running.clear();
      await redis?.stop();
    })());
  process.once('SIGINT', () => {
    console.log('\ninterrupted: stopping the load, the targets and the private Redis');
    interrupt.abort();
    void cleanup().finally(() => process.exit(130));
  });

  let sandbox: SandboxProcess | undefined;
  try {
    if (o.builds.includes('compiled')) {
      process.stdout.write('compiled build: tsc (tsconfig.build.json) into bench/out/dist… ');
      console.log(`built in ${(buildCompiled(DIST_DIR) / 1000).toFixed(1)} s`);
    }
    redis = await startRedisSide(o.redis);
    console.log(`private ${o.redis === 'cluster' ? 'Redis Cluster (3 masters, 3 replicas)' : 'redis-server'} at ${redis.url}`);
    sandbox = await startSandbox();
    console.log(`sandbox gateway (npm run sandbox) at ${sandbox.url}`);

    const profileArgs = o.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    if (o.profile) mkdirSync(PROFILE_DIR, { recursive: true });
    const services: Array<{ name: 'tsx' | 'compiled'; t: RunningTarget }> = [];
    let sample: { sessionId: string; screens: string[] } | undefined;
    let hops: Watched | undefined;
    let keys: KeySize[] = [];
    let expects: string[] = [];
    for (const name of o.builds) {
      process.stdout.write(`${TARGET_NAME[name]}: starting… `);
      const t = await startTarget(name === 'tsx' ? 'service' : 'compiled', redis.url, PREFIX[name], o.logLevel, profileArgs, sandbox.url, DIST_DIR);
      running.add(t);
      services.push({ name, t });
      // A first session loads the scripts (EVALSHA, NOSCRIPT, EVAL): the watched one shows the steady state.
      await sampleSession(t.url, `${tag}${name}w`, '+254712999998');
      if (!sample) {
        const sampleId = airtimeSession(`${tag}-sample`, 0, SAMPLE_PHONE).sessionId;
        hops = await watch(redis, [sampleId, SAMPLE_PHONE.slice(1)], async () => {
          sample = await sampleSession(t.url, tag);
        });
        for (const m of redis.masters) keys.push(...(await sessionKeys(m, PREFIX[name], [sample!.sessionId, SAMPLE_PHONE.slice(1)])));
        // Each reply's first line up to the first digit identifies the screen without the
        // session's own values: the load counts any other reply as an error.
        expects = sample!.screens.map((x) => x.split('\n')[0]!.replace(/\d.*$/, ''));
      }
      console.log('ready');
    }

    process.stdout.write('floor: starting… ');
    const floor = await startTarget('floor', redis.url, PREFIX.floor, o.logLevel, profileArgs);
    running.add(floor);
    console.log('ready');

    // Alternating segments: a burst of other work on the machine lands on every target alike,
    // instead of on whichever happened to be measured at the time. Session and phone numbers
    // keep counting across segments (a reused phone would get a resume offer).
    const targets = [...services, { name: 'floor' as const, t: floor }];
    const parts = new Map<string, Measured[]>(targets.map((x) => [x.name, []]));
    const next = new Map<string, number>(targets.map((x) => [x.name, 0]));
    for (let r = 0; r < o.rounds; r++) {
      const seg = { ...o, segmentS: o.durationS / o.rounds, segmentWarmupS: r === 0 ? o.warmupS : Math.min(1, o.warmupS) };
      process.stdout.write(`round ${r + 1}/${o.rounds}:`);
      for (const { name, t } of targets) {
        process.stdout.write(` ${name} ${seg.segmentWarmupS + seg.segmentS} s…`);
        const base = next.get(name)!;
        parts.get(name)!.push(
          await measure(t, redis, seg, (n) => {
            next.set(name, Math.max(next.get(name)!, base + n + 1));
            const s = airtimeSession(`${tag}${name}`, base + n);
            return s.texts.map((text, i) => ({ body: formBody(s.sessionId, s.phone, text), expect: name === 'floor' ? 'CON ' : expects[i]! }));
          }),
        );
      }
      console.log(' done');
    }
    const results = targets.map(({ name }) => ({ name, m: combine(parts.get(name)!) }));
    for (const { t } of targets) {
      await t.stop();
      running.delete(t);
    }

    keys = keys.filter((k, i) => keys.findIndex((x) => x.key === k.key) === i);
    report(o, results, keys, sample!.sessionId, load0, hops!, sample!.screens.length);
    // The floor too: what the least a Redis-backed handler does costs, beside the service's.
    if (o.profile) for (const { name, t } of targets) printProfile(t.pid, TARGET_NAME[name], name !== 'floor');
  } finally {
    sandbox?.stop();
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
