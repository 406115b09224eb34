// The shared limiter's priorities (money > notice > otp > bulk) and its daily cap, across
// limiter instances on their own Redis connections (as separate service instances would be).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRedis, waitReady, type Redis } from '../../../src/redis.js';
import { createRateLimiter, RateLimitWaitError, type RateLimiterOptions } from '../../../src/gateway/http/index.js';
import { startPeer, json, gateway } from './support.js';
import { closeSharedRedis } from '../../support/redis.js';

const conns: Redis[] = [];
async function conn(): Promise<Redis> {
  const r = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await waitReady(r);
  conns.push(r);
  return r;
}
after(async () => {
  await Promise.all(conns.map((c) => c.quit().catch(() => undefined)));
  await closeSharedRedis();
});

/** Two limiters on one key, each on its own connection. */
async function pair(o: Omit<RateLimiterOptions, 'redis' | 'key'>) {
  const key = `rlp${randomUUID()}`;
  return { key, a: createRateLimiter({ ...o, key, redis: await conn() }), b: createRateLimiter({ ...o, key, redis: await conn() }) };
}

test('headroom: a bulk caller leaves 3 × GATEWAY_RATE_RESERVE_PCT of the window to higher classes; money may use all of it', async () => {
  // limit 10, reserve 10 %: bulk stops at 7, otp at 8, notice at 9, money at 10.
  const { a, b } = await pair({ limit: 10, windowMs: 60_000, reservePct: 10, maxWaitMs: 0 });
  const take = async (l: typeof a, p: 'money' | 'notice' | 'otp' | 'bulk') =>
    l.acquire(undefined, p).then(
      () => true,
      (e) => {
        assert.ok(e instanceof RateLimitWaitError);
        return false;
      },
    );
  let bulk = 0;
  while (await take(bulk % 2 ? a : b, 'bulk')) bulk++;
  assert.equal(bulk, 7, 'bulk gets 7 of 10 slots');
  assert.equal(await take(a, 'otp'), true);
  assert.equal(await take(b, 'otp'), false, 'otp stops at 8');
  assert.equal(await take(b, 'notice'), true);
  assert.equal(await take(a, 'notice'), false, 'notice stops at 9');
  assert.equal(await take(a, 'money'), true, "the last slot is money's");
  assert.equal(await take(b, 'money'), false);
});

test('a waiting money caller is not overtaken: a bulk caller on another instance cannot take the slot it waits for', async () => {
  const { key, a, b } = await pair({ limit: 1, windowMs: 1000, reservePct: 0, maxWaitMs: 5000 });
  // A third instance's bulk jobs never wait in-process: they ask and move on.
  const c = createRateLimiter({ key, redis: await conn(), limit: 1, windowMs: 1000, maxWaitMs: 0 });
  await b.acquire(undefined, 'bulk'); // the window is full until t0 + 1 s
  const t0 = Date.now();
  let moneyAt = 0;
  const money = a.acquire(undefined, 'money').then(() => {
    moneyAt = Date.now() - t0;
  });
  // Meanwhile instance c asks for bulk every 2 ms: the moment the slot frees it is there first,
  // as a crowd of bulk jobs would be.
  const bulkWins: number[] = [];
  const hammer = (async () => {
    while (moneyAt === 0 && Date.now() - t0 < 4000) {
      try {
        await c.acquire(undefined, 'bulk');
        bulkWins.push(Date.now() - t0);
      } catch {
        /* no slot for bulk */
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  await money;
  await hammer;
  assert.ok(moneyAt >= 900 && moneyAt < 1500, `money got the freed slot at ${moneyAt} ms`);
  assert.deepEqual(
    bulkWins.filter((t) => t < moneyAt),
    [],
    'no bulk call took a slot while money waited',
  );
});

test('daily cap: the limiter refuses past it with why=day and the wait until the oldest request leaves the day', async () => {
  const { a, b } = await pair({ limit: 100, windowMs: 60_000, dayLimit: 3, dayWindowMs: 1500, maxWaitMs: 0 });
  await a.acquire();
  await b.acquire();
  await a.acquire();
  const err = await b.acquire().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof RateLimitWaitError, 'the fourth request of the day waits');
  assert.equal(err.why, 'day');
  assert.ok(err.retryInMs > 1000 && err.retryInMs <= 1500, `retry in ${err.retryInMs} ms`);
  await new Promise((r) => setTimeout(r, err.retryInMs + 50));
  assert.equal(typeof (await b.acquire()), 'number', 'the day window moved on');
});

test('GATEWAY_RATE_LIMIT_PER_DAY through the gateway client: the call past the cap is RATE_LIMITED and never sent', async () => {
  const peer = await startPeer((_req, res) => json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 1, Earnings_Bal: 0 }));
  const prefix = `rld${randomUUID().slice(0, 8)}:`;
  const env = { GATEWAY_RATE_LIMIT_PER_MIN: '100', GATEWAY_RATE_LIMIT_PER_DAY: '2', GATEWAY_RATE_WAIT_MS: '500' };
  const a = await gateway(peer.url, env, { prefix });
  const b = await gateway(peer.url, env, { prefix });
  try {
    assert.equal((await a.sendSms({ phone: '0712345678', message: 'one' }, { reference: 'd1' })).kind, 'succeeded');
    assert.equal((await b.sendSms({ phone: '0712345678', message: 'two' }, { reference: 'd2', priority: 'otp' })).kind, 'succeeded');
    const third = await a.sendSms({ phone: '0712345678', message: 'three' }, { reference: 'd3' });
    assert.equal(third.kind, 'failed');
    if (third.kind === 'failed') {
      assert.equal(third.error.code, 'RATE_LIMITED');
      assert.ok((third.error.retryAfterMs ?? 0) > 3_600_000, `the next slot is about a day away (${third.error.retryAfterMs} ms)`);
    }
    assert.equal(peer.seen.length, 2, 'the third was never sent');
  } finally {
    await a.close();
    await b.close();
    await peer.close();
  }
});

test('priority reaches the limiter through the client: bulk is held back where money goes through', async () => {
  const peer = await startPeer((_req, res) =>
    json(res, 200, { status: 'Success', status_code: '0000', merchant_reference: 'R1', transactionId: 'R1', message: 'ok' }),
  );
  const prefix = `rlc${randomUUID().slice(0, 8)}:`;
  // limit 4, reserve 10 %: bulk may hold 4 - floor(4 × 0.3) = 3 slots of the window.
  const env = { GATEWAY_RATE_LIMIT_PER_MIN: '4', GATEWAY_RATE_RESERVE_PCT: '10', GATEWAY_RATE_WAIT_MS: '0' };
  const gw = await gateway(peer.url, env, { prefix });
  try {
    const phones = ['+254712000001'];
    const kinds = [];
    for (let i = 0; i < 4; i++) kinds.push((await gw.bulkSms({ phones, message: `b${i}` }, { reference: `b${i}`, priority: 'bulk' })).kind);
    assert.deepEqual(kinds, ['succeeded', 'succeeded', 'succeeded', 'failed'], 'the fourth bulk call finds no slot for bulk');
    assert.equal((await gw.sendSms({ phone: '0712345678', message: 'money first' }, { reference: 'm1' })).kind, 'succeeded', 'money still finds one');
    assert.equal(peer.seen.length, 4);
  } finally {
    await gw.close();
    await peer.close();
  }
});
