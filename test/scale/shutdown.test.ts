// SIGTERM to the service as its own process: /readyz turns 503 first, the hop in flight is
// answered, the process exits within SHUTDOWN_TIMEOUT_S; and a rolling restart of one of two
// instances under load (a load balancer following /readyz) loses no request and moves no
// money twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { faults, ledger, vendsFor, FAST_ENV, type Svc } from '../payments/support.js';
import { startSandbox, type Sandbox } from '../support/sandbox.js';
import { Phone } from '../support/ussd.js';
import { AgentStore } from '../../src/agents/store.js';
import { OrderStore } from '../../src/payments/order-store.js';
import { keyBuilder } from '../../src/keys.js';
import { PAIR_ENV } from './support.js';
import { readinessPool, spawnService, type Child } from './child.js';
import { assertAllAnswered, assertMoneyKept, startTraffic } from './traffic.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let sandbox: Sandbox;
let redis: Redis;
const children: Child[] = [];

before(async () => {
  sandbox = await startSandbox({ SANDBOX_RATE_LIMIT_PER_MIN: '100000', SANDBOX_RATE_LIMIT_PER_DAY: '1000000' });
  redis = new Redis(REDIS_URL);
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  redis.disconnect();
  await sandbox.close();
});

function envFor(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...FAST_ENV, ...PAIR_ENV, REDIS_URL, REDIS_PREFIX: prefix, GATEWAY_URL: sandbox.url, API_TOKEN: 'test-api-token-0123456789', ...extra };
}

async function start(env: Record<string, string>): Promise<Child> {
  const c = await spawnService(env);
  children.push(c);
  await c.ready();
  return c;
}

test('SIGTERM: /readyz 503 first, the hop in flight answered, exit within SHUTDOWN_TIMEOUT_S', async () => {
  const prefix = `d${randomUUID().slice(0, 8)}:`;
  const svc = await start(envFor(prefix, { SHUTDOWN_DRAIN_MS: '1000', SHUTDOWN_TIMEOUT_S: '8' }));
  const agents = new AgentStore(redis, keyBuilder(prefix, false), { maxTries: 3, lockS: 60 });
  await agents.add('+254722900001');
  await agents.setPin('+254722900001', '1234');
  const phone = new Phone(svc.url, '+254722900001');
  await phone.dial();
  await phone.walk('6', '2', '1', '0712900001', '120');
  // The float sale's gateway call takes 1.5 s: the hop is in flight when SIGTERM arrives.
  await faults({ gw: sandbox.url } as Svc, { latencyMs: 1500 });
  try {
    const inFlight = phone.send('1234');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    svc.kill('SIGTERM');
    let readyz = 0;
    for (let i = 0; i < 20 && readyz !== 503; i++) {
      readyz = (await fetch(`${svc.url}/readyz`)).status;
      if (readyz !== 503) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(readyz, 503, '/readyz says not ready at once');
    const readyzAt = Date.now() - t0;
    // While draining, everything but readiness is still served.
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    const reply = await inFlight;
    assert.match(reply, /^END /, 'the hop in flight got its answer');
    const code = await svc.exited;
    const exitMs = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(exitMs < 8000, `exited ${exitMs} ms after SIGTERM`);
    assert.ok(exitMs >= 1000, 'not before the drain time');
    assert.ok(svc.lines.some((l) => l.includes('draining: /readyz answers 503')));
    assert.ok(svc.lines.some((l) => l.includes('"msg":"stopped"')));
    await assert.rejects(fetch(`${svc.url}/healthz`), 'the listener is closed');
    const order = (await new OrderStore(redis, keyBuilder(prefix, false)).ids())[0];
    assert.ok(order, 'the float sale made its order');
    assert.equal(vendsFor(await ledger({ gw: sandbox.url } as Svc), order).length, 1, 'one vend');
    console.log(`# SIGTERM: /readyz 503 after ${readyzAt} ms, in-flight hop answered, exit 0 after ${exitMs} ms (drain 1000 ms)`);
  } finally {
    await faults({ gw: sandbox.url } as Svc, { latencyMs: 0 });
  }
});

test('rolling restart of two instances under load: no request lost, no money twice', async () => {
  const prefix = `r${randomUUID().slice(0, 8)}:`;
  // The ledger then holds this test's money only (the invariant is checked over all of it).
  assert.equal((await fetch(`${sandbox.url}/sandbox/_reset`, { method: 'POST' })).status, 200);
  const env = envFor(prefix, { SHUTDOWN_DRAIN_MS: '600', SHUTDOWN_TIMEOUT_S: '10' });
  const first = await Promise.all([start(env), start(env)]);
  const lb = readinessPool(first.map((c) => c.url));
  const traffic = startTraffic(() => lb.urls(), 4, 30);
  const restarted: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1000));
    for (const old of first) {
      // One at a time, as a deployment does: the replacement is up before the next goes.
      const t0 = Date.now();
      old.kill('SIGTERM');
      const gone = old.exited.then((code) => ({ code, ms: Date.now() - t0 }));
      const next = await start(env);
      lb.add(next.url);
      const { code, ms } = await gone;
      assert.equal(code, 0);
      restarted.push(ms);
      await new Promise((r) => setTimeout(r, 800));
    }
  } finally {
    await traffic.stop();
    lb.stop();
  }
  const { politeEnds, hops } = assertAllAnswered(traffic);
  assert.equal(politeEnds, 0, 'no hop was refused');
  assert.ok(
    traffic.hops.every((h) => !h.error),
    'no connection refused or reset',
  );
  const store = new OrderStore(redis, keyBuilder(prefix, false));
  const orders = await assertMoneyKept(traffic, { gw: sandbox.url, payments: { store } } as unknown as Svc, store);
  assert.ok(orders > 0, 'purchases were made during the restarts');
  console.log(
    `# rolling restart: ${hops} hops over two restarts (old instance exited ${restarted.join(' / ')} ms after SIGTERM), 0 refused, ${orders} purchases fulfilled once`,
  );
});
