// `npm run chaos -- [--duration 120] [--seed N] [--rate 5]`: the chaos soak (README, "Chaos soak").
// Starts a private Redis, the sandbox gateway alone, two web instances behind a balancer and a
// worker process; drives purchases through /ussd while faults drawn from the seed hit every
// part; lets everything settle (reconciliation included); then checks the money and what every
// subscriber was told (scripts/lib/chaos/checks.ts). Exits 1 on any violation; the seed replays
// the same purchases and fault schedule.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createRedis } from '../src/redis.js';
import { AgentStore } from '../src/agents/store.js';
import { OrderStore } from '../src/payments/order-store.js';
import { SETTLED } from '../src/payments/types.js';
import { parseArgs } from './lib/chaos/args.js';
import { Rng } from './lib/chaos/prng.js';
import { redisProc, sandboxProc, webProc, workerProc, type Proc } from './lib/chaos/processes.js';
import { startBalancer } from './lib/chaos/balancer.js';
import { AGENT_PIN, plan, run, type Purchase } from './lib/chaos/purchases.js';
import { gatewayFaults, play, schedule } from './lib/chaos/faults.js';
import { allowancePhase, API_TOKEN, campaignTotals, type AllowanceReport } from './lib/chaos/allowance.js';
import { check, loadOrders, outcomes, type Entry, type Notes, type Violation } from './lib/chaos/checks.js';
import { printSummary } from './lib/chaos/summary.js';

const PREFIX = 'chaos:';
/** The account's allowance for the run: above the load, except in the allowance phase. */
const LIMIT_PER_MIN = 6000;
const SETTLE_MAX_MS = 240_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const args = parseArgs(process.argv.slice(2));
const started = Date.now();
const dir = args.dir ?? `/tmp/chaos-${args.seed}-${started}`;
mkdirSync(dir, { recursive: true });
console.log(`chaos: seed ${args.seed}, ${args.durationS} s at ${args.rate} purchases/s; logs in ${dir}`);
const rng = new Rng(args.seed);
const buyRng = rng.fork(1);
const faultRng = rng.fork(2);

const redisP = await redisProc(dir);
await redisP.start();
const sandboxEnv = {
  LOG_LEVEL: 'warn',
  SANDBOX_IPN_TIME_SCALE: '0.01',
  SANDBOX_CHECKOUT_DELAY_MS: '300',
  SANDBOX_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
  SANDBOX_RATE_LIMIT_PER_DAY: '100000000',
  SANDBOX_FLOAT_KES: '1000000000',
  REDIS_URL: redisP.url,
};
const sandbox = await sandboxProc(dir, sandboxEnv);
await sandbox.start();

const webs: Proc[] = [];
const balancer = await startBalancer(() =>
  webs
    .filter((w) => w.alive())
    .map((w) => w.url)
    .concat(webs.filter((w) => !w.alive()).map((w) => w.url)),
);
const env = {
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  REDIS_URL: redisP.url,
  REDIS_PREFIX: PREFIX,
  GATEWAY_URL: sandbox.url,
  PUBLIC_URL: balancer.url,
  API_TOKEN,
  GATEWAY_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
  GATEWAY_RATE_WAIT_MS: '2000',
  GATEWAY_TIMEOUT_MS: '3000',
  RECONCILE_AFTER_S: '4',
  RECONCILE_EVERY_S: '3',
  MONEY_RETRY_BUDGET_S: '20',
  PAYMENTS_RETRY_BASE_MS: '200',
  PAYMENTS_MAX_WAIT_MS: '2000',
  CHECKOUT_DELAY_MS: '2000',
};
const config = loadConfig(env);
const redis = createRedis(redisP.url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
redis.on('error', () => undefined); // Redis restarts are part of the run: reconnecting is enough
const key = (...p: string[]) => PREFIX + p.join(':');

// Subscribers: customers (two of them the sandbox's "cancels the prompt" and "no funds" phones)
// and agents with float, registered and active.
const customers = Array.from({ length: 40 }, (_, i) => `+2547120${String(10_000 + i).padStart(5, '0')}`);
customers.push('+254700000001', '+254700000002');
const agents = Array.from({ length: 8 }, (_, i) => `+2547221${String(10_000 + i).padStart(5, '0')}`);
const agentStore = new AgentStore(redis, key, { maxTries: 100, lockS: 60 });
for (const a of agents) {
  await agentStore.add(a);
  await agentStore.setPin(a, AGENT_PIN);
}

for (const name of ['web-a', 'web-b']) webs.push(await webProc(name, dir, env));
const worker = workerProc(dir, env);
await Promise.all([...webs.map((w) => w.start()), worker.start()]);
console.log(`chaos: up in ${((Date.now() - started) / 1000).toFixed(1)} s (redis ${redisP.url}, sandbox ${sandbox.url}, balancer ${balancer.url})`);

// ── load and faults ──────────────────────────────────────────────────
const durationMs = args.durationS * 1000;
const t0 = Date.now();
const purchases: Purchase[] = [];
const busy = new Set<string>();
const running: Array<Promise<void>> = [];
const faultCounts: Record<string, number> = {};
const notes: Violation[] = [];
let skipped = 0;
const count = (k: string) => {
  faultCounts[k] = (faultCounts[k] ?? 0) + 1;
};

const plays: Array<Promise<void>> = [];
const targets = { redis: redisP, webs, worker, sandboxUrl: sandbox.url, balancerUrl: balancer.url, signatureHeader: config.GATEWAY_SIGNATURE_HEADER };
for (const f of schedule(faultRng, durationMs)) {
  plays.push(
    (async () => {
      await sleep(f.atMs);
      try {
        const r = await play(f, targets, (what) => notes.push({ what }));
        count(r === 'done' ? f.kind : `${f.kind} (skipped)`);
      } catch (err) {
        count(`${f.kind} (failed: ${(err as Error).message.slice(0, 60)})`);
      }
    })(),
  );
}

// Demand above the allowance: from 40 % of the run, for a quarter of it (at least 15 s).
const phaseAt = Math.floor(durationMs * 0.4);
const phaseMs = Math.max(15_000, Math.floor(durationMs * 0.25));
const phase: Promise<AllowanceReport> = sleep(phaseAt).then(() => {
  count('allowance_squeeze');
  return allowancePhase({ redis, prefix: PREFIX, limit: LIMIT_PER_MIN, free: 30, balancerUrl: balancer.url, recipients: 5000, untilMs: Date.now() + phaseMs });
});

const tick = 1000 / args.rate;
for (let n = 0; Date.now() - t0 < durationMs; n++) {
  const due = t0 + n * tick;
  if (due > Date.now()) await sleep(due - Date.now());
  const agent = buyRng.chance(0.2);
  const pool = (agent ? agents : customers).filter((p) => !busy.has(p));
  const pickN = buyRng.int(0, 1_000_000);
  if (pool.length === 0) {
    skipped++;
    continue;
  }
  const phone = pool[pickN % pool.length]!;
  const p = plan(purchases.length + 1, phone, agent, buyRng);
  purchases.push(p);
  busy.add(phone);
  const hopRng = buyRng.fork(p.n);
  running.push(run(p, balancer.url, hopRng).finally(() => busy.delete(phone)));
}
console.log(
  `chaos: load done after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${purchases.length} purchases started (${skipped} ticks with every subscriber busy)`,
);
await Promise.all(running);
await Promise.all(plays);
const allowance = await phase;

// ── settle ──────────────────────────────────────────────────────────
// Everything back: processes up, Redis running, the gateway healthy.
redisP.resume();
for (const p of [redisP, ...webs, worker]) if (!p.alive()) await p.start();
await gatewayFaults(sandbox.url, { latencyMs: 0, down: false, failNext: null, unsignedIpn: false, checkoutPaid: null });
const store = new OrderStore(redis, key);
const allowanceCampaign = allowance.campaign;
const settleT = Date.now();
let open = -1;
let quiet = 0;
for (;;) {
  await sleep(2000);
  try {
    let n = 0;
    for (const id of await store.ids()) {
      const o = await store.get(id);
      if (o && !SETTLED.has(o.state)) n++;
    }
    open = n;
    const m = await (await fetch(`${balancer.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const jobs = (state: string) => Number(new RegExp(`^payments_jobs\\{state="${state}"\\} (\\d+)`, 'm').exec(m)?.[1] ?? 0);
    const pending = jobs('waiting') + jobs('active') + Math.max(0, jobs('delayed') - 1); // one delayed: the reconcile schedule
    // The bulk campaign of the allowance phase must finish too (nothing dropped however long the backlog).
    const c = allowanceCampaign ? await campaignTotals(balancer.url, allowanceCampaign) : undefined;
    const bulkDone = !allowanceCampaign || (c !== undefined && c.sent + c.failed >= c.valid);
    quiet = open === 0 && pending === 0 && bulkDone ? quiet + 1 : 0;
  } catch {
    quiet = 0;
  }
  if (quiet >= 2 || Date.now() - settleT > SETTLE_MAX_MS) break;
}
const settleS = Math.round((Date.now() - settleT) / 1000);
if (quiet < 2) notes.push({ what: `not settled after ${settleS} s: ${open} orders still open` });

// ── check ───────────────────────────────────────────────────────────
const ledger = (await (await fetch(`${sandbox.url}/_ledger`)).json()) as Entry[];
const orders = await loadOrders(store);
// Who got the squeezed allowance: bulk batches must not have taken it from money and receipts.
const during = ledger.filter((e) => {
  const t = Date.parse(e.at);
  return t >= allowance.startedAt && t <= allowance.endedAt;
});
const isBatch = (e: Entry) => /^sms-b[0-9a-f]+-\d+$/.test(e.reference ?? ''); // src/sms/bulk-worker.ts, batchReference
allowance.sentDuring = { bulk: during.filter(isBatch).length, other: during.filter((e) => !isBatch(e)).length };
const counted: Notes = { unconfirmed: [], corrected: [], screenRepeats: [], moneyRepeats: [] };
const violations = [...notes, ...(await check(store, orders, ledger, purchases, counted))];
if (allowance.campaign) {
  const c = await campaignTotals(balancer.url, allowance.campaign);
  if (!c || c.sent < c.valid) violations.push({ what: `bulk campaign ${allowance.campaign} not sent in full: ${JSON.stringify(c)}` });
} else violations.push({ what: `the allowance phase could not start its bulk campaign: ${allowance.startErrors.join('; ') || 'no try made'}` });
// A payment step or order SMS must wait for a slot, never fail an attempt for want of one.
for (const name of ['web-a', 'web-b', 'worker']) {
  const lines = readFileSync(join(dir, `${name}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.includes('job attempt failed') && l.includes('rate-limit slot'));
  for (const l of lines.slice(0, 5)) violations.push({ what: `${name}: a job failed for want of a rate-limit slot: ${l.slice(0, 200)}` });
}

const summary = {
  seed: args.seed,
  durationS: args.durationS,
  rate: args.rate,
  wallS: Math.round((Date.now() - started) / 1000),
  settleS,
  purchases: purchases.length,
  outcomes: outcomes(orders, purchases),
  faults: faultCounts,
  allowance,
  ledgerEntries: ledger.length,
  counted,
  violations,
};
const violating = [...new Set(violations.map((v) => v.orderId).filter((id): id is string => !!id))].map((id) => orders.get(id) ?? { id });
writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...summary, violatingOrders: violating, purchasesDetail: purchases }, null, 1));
printSummary(summary, dir);

await balancer.close();
for (const p of [worker, ...webs, sandbox]) await p.stop();
await redis.quit().catch(() => redis.disconnect());
await redisP.stop();
process.exit(violations.length ? 1 : 0);
