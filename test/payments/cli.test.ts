// The operator scripts on a real Redis: `npm run agents -- …` and `npm run orders -- show <id>`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { OrderStore } from '../../src/payments/order-store.js';
import { orderIdFor } from '../../src/payments/ids.js';

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_PREFIX = `tc${randomUUID().slice(0, 8)}:`;
const redis = new Redis(REDIS_URL);
after(() => redis.quit());

async function script(name: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], {
      env: { ...process.env, REDIS_URL, REDIS_PREFIX, LOG_LEVEL: 'silent' },
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

test('agents: add, add again, list, show; a bad number is refused', async () => {
  const a = await script('agents', 'add', '0712345678');
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /^registered: \+254712345678 \(registered\)/);
  assert.match((await script('agents', 'add', '254712345678')).out, /already registered/);
  assert.match((await script('agents', 'list')).out, /\+254712345678\tregistered/);
  assert.equal((await script('agents', 'add', '12')).code, 2);
  assert.equal(await redis.hget(`${REDIS_PREFIX}agent:254712345678`, 'status'), 'registered');
});

test('orders show prints the record and its history; unknown ids exit 1', async () => {
  const store = new OrderStore(redis, (...p) => REDIS_PREFIX + p.join(':'));
  const id = orderIdFor(randomUUID());
  await store.create(
    { id, idem: 'x', kind: 'airtime', pay: 'checkout', phone: '+254712345678', lang: 'en', amountMinor: 5000, recipient: '+254712345678', telco: 'SAFARICOM' },
    'confirmed',
  );
  await store.transition(id, 'awaiting_payment', 'scheduled');
  const r = await script('orders', 'show', id);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`"id": "${id}"`));
  assert.match(r.out, /"state": "awaiting_payment"/);
  assert.match(r.out, /2547\*\*\*\*5678/);
  assert.match(r.out, /- +→ created +confirmed\n.*created +→ awaiting_payment +scheduled/);
  assert.equal((await script('orders', 'show', 'KNOPE')).code, 1);
});

test('orders attention lists needs_attention orders with their reasons; retry and close go through the API', async () => {
  const store = new OrderStore(redis, (...p) => REDIS_PREFIX + p.join(':'));
  const id = orderIdFor(randomUUID());
  await store.create(
    { id, idem: 'y', kind: 'airtime', pay: 'checkout', phone: '+254712345679', lang: 'en', amountMinor: 7000, recipient: '+254712345679', telco: 'SAFARICOM' },
    'confirmed',
  );
  await store.transition(id, 'awaiting_payment', 'scheduled');
  await store.transition(id, 'needs_attention', 'payment does not match the order: paid KES 500.00 for an order of KES 70.00', {
    set: { attention: 'paid KES 500.00 for an order of KES 70.00', attentionStep: 'checkout', attentionFrom: 'awaiting_payment' },
  });
  const r = await script('orders', 'attention');
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.includes(`${id}\tairtime/checkout\tKES 70\t2547****5679\t`), r.out);
  assert.ok(r.out.includes('\tcheckout\tpaid KES 500.00 for an order of KES 70.00'), r.out);
  assert.match(r.err, /1 order\(s\) need attention/);
  // Without a running service (or token) retry says why and fails.
  const noApi = await script('orders', 'retry', id);
  assert.equal(noApi.code, 1);
  assert.equal((await script('orders', 'close', id)).code, 2, 'close needs a reason');
});
