// The client-side limit is shared through Redis by every instance: two gateway instances with
// one prefix together never exceed the window, and a caller over the limit waits (bounded,
// abortable) instead of failing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPeer, json, gateway } from './support.js';
import { closeSharedRedis, sharedRedis } from '../../support/redis.js';
import { createRateLimiter, RateLimitWaitError } from '../../../src/gateway/http/index.js';

after(() => closeSharedRedis());

const balanceOk = { status: 'Success', status_code: '0000', Account_Bal: 1, Earnings_Bal: 0 };

test('limit 5 per window across two instances: the 6th call waits for the window, then goes', async () => {
  const peer = await startPeer((_req, res) => json(res, 200, balanceOk));
  const prefix = `rl${randomUUID().slice(0, 8)}:`;
  const env = { GATEWAY_RATE_LIMIT_PER_MIN: '5' };
  const a = await gateway(peer.url, env, { prefix, rateWindowMs: 1500 });
  const b = await gateway(peer.url, env, { prefix, rateWindowMs: 1500 });
  try {
    const t0 = Date.now();
    await Promise.all([a.balance(), b.balance(), a.balance(), b.balance(), a.balance(), b.balance()]);
    const times = peer.seen.map((s) => s.at - t0).sort((x, y) => x - y);
    assert.equal(times.length, 6);
    assert.ok(times[4]! < 500, `first five go at once (${times.join(',')})`);
    assert.ok(times[5]! >= 1450 && times[5]! < 2500, `the sixth waits for the window (${times.join(',')})`);
  } finally {
    await a.close();
    await b.close();
    await peer.close();
  }
});

test('per-minute window: an aborted wait fails without sending, the window is respected', async () => {
  const peer = await startPeer((_req, res) => json(res, 200, balanceOk));
  const prefix = `rl${randomUUID().slice(0, 8)}:`;
  const env = { GATEWAY_RATE_LIMIT_PER_MIN: '5', GATEWAY_RATE_WAIT_MS: '120000' };
  const a = await gateway(peer.url, env, { prefix });
  const b = await gateway(peer.url, env, { prefix });
  try {
    for (let i = 0; i < 5; i++) await (i % 2 ? a : b).sendSms({ phone: '0712345678', message: `m${i}` }, { reference: `s${i}` });
    const t0 = Date.now();
    const r = await a.sendSms({ phone: '0712345678', message: 'sixth' }, { reference: 's6', signal: AbortSignal.timeout(300) });
    const waited = Date.now() - t0;
    assert.equal(r.kind, 'failed');
    if (r.kind === 'failed') {
      assert.equal(r.error.code, 'RATE_LIMITED');
      assert.equal(r.error.retryable, true);
    }
    assert.ok(waited >= 280 && waited < 1000, `waited ${waited} ms for a slot before giving up`);
    assert.equal(peer.seen.length, 5, 'the sixth was never sent');
  } finally {
    await a.close();
    await b.close();
    await peer.close();
  }
});

test('the wait is bounded by GATEWAY_RATE_WAIT_MS', async () => {
  const r = await sharedRedis();
  const limiter = createRateLimiter({ redis: r, key: `rl${randomUUID()}`, limit: 2, windowMs: 60_000, maxWaitMs: 200 });
  await limiter.acquire();
  await limiter.acquire();
  const t0 = Date.now();
  await assert.rejects(limiter.acquire(), RateLimitWaitError);
  assert.ok(Date.now() - t0 < 100, 'a wait longer than the budget is refused at once');
});

test('the limiter is atomic under concurrency: 20 racing callers, limit 7, exactly 7 get a slot at once', async () => {
  const r = await sharedRedis();
  const key = `rl${randomUUID()}`;
  const limiters = [0, 1, 2].map(() => createRateLimiter({ redis: r, key, limit: 7, windowMs: 60_000, maxWaitMs: 0 }));
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => limiters[i % 3]!.acquire()));
  assert.equal(results.filter((x) => x.status === 'fulfilled').length, 7);
  assert.equal(await r.zcard(key), 7);
});

test('Redis unreachable: the limiter fails open (and reports it) unless told otherwise', async () => {
  const { createRedis } = await import('../../../src/redis.js');
  const dead = createRedis('redis://127.0.0.1:1', { retryStrategy: () => null });
  dead.on('error', () => undefined);
  try {
    const errors: Error[] = [];
    const open = createRateLimiter({ redis: dead, key: 'k', limit: 1, onError: (e) => errors.push(e) });
    assert.equal(typeof (await open.acquire()), 'number');
    assert.equal(errors.length, 1);
    const closed = createRateLimiter({ redis: dead, key: 'k', limit: 1, failOpen: false });
    await assert.rejects(closed.acquire());
  } finally {
    dead.disconnect();
  }
});
