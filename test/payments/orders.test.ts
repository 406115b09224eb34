// Orders, agents and IPN records on a real Redis (own key prefix): the state machine, atomic
// transitions under contention, history, PIN hashing and lockout, IPN deduplication.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { PAID_CAUSE } from '../../src/payments/invariants.js';
import { OrderStore } from '../../src/payments/order-store.js';
import { IpnStore } from '../../src/payments/ipn-store.js';
import { orderIdFor, parseRef, stepRef } from '../../src/payments/ids.js';
import { AgentStore } from '../../src/agents/store.js';
import { hashPin, verifyPin } from '../../src/agents/pin.js';
import type { TransactionUpdate } from '../../src/gateway/types.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `tp${randomUUID().slice(0, 8)}:`;
const key = (...p: string[]) => prefix + p.join(':');
after(() => redis.quit());

const store = new OrderStore(redis, key);

function draft(idem: string) {
  return {
    id: orderIdFor(idem),
    idem,
    kind: 'airtime' as const,
    pay: 'checkout' as const,
    phone: '+254712345678',
    lang: 'en' as const,
    amountMinor: 10_000,
    recipient: '+254712345678',
    telco: 'SAFARICOM',
  };
}

test('order ids are stable per idempotency key and round-trip through references', () => {
  const a = orderIdFor('ATUid_1:3');
  assert.equal(a, orderIdFor('ATUid_1:3'));
  assert.notEqual(a, orderIdFor('ATUid_1:4'));
  assert.match(a, /^K[0-9A-Z]{15}$/);
  assert.deepEqual(parseRef(stepRef(a, 'refund2')), { orderId: a, step: 'refund2' });
  assert.equal(parseRef('KYA123456'), undefined);
  assert.equal(parseRef(undefined), undefined);
});

test('create is atomic and idempotent: ten concurrent creates make one order', async () => {
  const d = draft(randomUUID());
  const results = await Promise.all(Array.from({ length: 10 }, () => store.create(d, 'test')));
  assert.equal(results.filter(Boolean).length, 1);
  const o = await store.get(d.id);
  assert.equal(o?.state, 'created');
  assert.equal(o?.amountMinor, 10_000);
  assert.equal((await store.history(d.id)).length, 1);
});

test('transitions follow the state machine and record history with cause', async () => {
  const d = draft(randomUUID());
  await store.create(d, 'confirmed');
  assert.deepEqual(await store.transition(d.id, 'paid', 'too early'), { ok: false, current: 'created' });
  assert.equal((await store.transition(d.id, 'awaiting_payment', 'scheduled')).ok, true);
  assert.equal((await store.transition(d.id, 'paid', 'ipn', { set: { checkoutRef: 'KYA1' } })).ok, true);
  assert.equal((await store.transition(d.id, 'fulfilling', 'vend')).ok, true);
  assert.equal((await store.transition(d.id, 'fulfilled', 'vend ok', { set: { token: '1234' } })).ok, true);
  // Terminal: nothing moves it any more.
  assert.equal((await store.transition(d.id, 'refunding', 'late failure')).ok, false);
  const o = await store.get(d.id);
  assert.equal(o?.state, 'fulfilled');
  assert.equal(o?.checkoutRef, 'KYA1');
  assert.equal(o?.token, '1234');
  const h = await store.history(d.id);
  assert.deepEqual(
    h.map((e) => `${e.from}>${e.to}:${e.cause}`),
    ['>created:confirmed', 'created>awaiting_payment:scheduled', 'awaiting_payment>paid:ipn', 'paid>fulfilling:vend', 'fulfilling>fulfilled:vend ok'],
  );
  assert.ok(h.every((e) => !Number.isNaN(Date.parse(e.at))));
  assert.equal((await store.stale(Date.now() + 1000)).includes(d.id), false, 'terminal orders leave the open index');
  await assert.rejects(store.transition(d.id, 'created', 'x'), /no state may move to created/);
});

test('concurrent competing transitions: exactly one wins', async () => {
  const d = draft(randomUUID());
  await store.create(d, 'c');
  await store.transition(d.id, 'awaiting_payment', 's');
  await store.transition(d.id, 'paid', 'p');
  await store.transition(d.id, 'fulfilling', 'f');
  const rs = await Promise.all([
    ...Array.from({ length: 5 }, () => store.transition(d.id, 'fulfilled', 'ok', { from: ['fulfilling'] })),
    ...Array.from({ length: 5 }, () => store.transition(d.id, 'refunding', 'failed', { from: ['fulfilling'] })),
  ]);
  assert.equal(rs.filter((r) => r.ok).length, 1);
  assert.equal((await store.history(d.id)).length, 5);
});

test('step bookkeeping: sent flag, budget clock, the first gateway reference kept; once-flags', async () => {
  const d = draft(`steps-${randomUUID()}`);
  const id = d.id;
  await store.create(d, 'test');
  assert.deepEqual(await store.stepInfo(id, 'fulfil'), { sent: false });
  await store.markSent(id, 'fulfil');
  const first = await store.stepInfo(id, 'fulfil');
  assert.equal(first.sent, true);
  assert.ok(first.since && Math.abs(first.since - Date.now()) < 5000);
  await store.markSent(id, 'fulfil');
  assert.equal((await store.stepInfo(id, 'fulfil')).since, first.since, 'the clock starts once');
  await store.clearSent(id, 'fulfil');
  assert.equal((await store.stepInfo(id, 'fulfil')).sent, false);
  assert.equal(await store.recordStepRef(id, 'fulfil', 'kyanda', 'KYA1'), 'KYA1');
  // A second, different reference for the same step is refused: the first answer's stands.
  assert.equal(await store.recordStepRef(id, 'fulfil', 'kyanda', 'KYA2'), 'KYA1');
  assert.equal(await store.byGatewayRef('kyanda', 'KYA1'), `${id}-fulfil`);
  assert.equal(await store.byGatewayRef('kyanda', 'KYA2'), null);
  assert.equal((await store.get(id))?.['s.fulfil.ref' as never], undefined, 'bookkeeping stays out of the order');
  const once = await Promise.all([store.once(id, 'x'), store.once(id, 'x'), store.once(id, 'x')]);
  assert.equal(once.filter(Boolean).length, 1);
});

test('PINs are scrypt hashes that verify only the right PIN', async () => {
  const h = await hashPin('4321');
  assert.match(h, /^scrypt\$/);
  assert.ok(!h.includes('4321'));
  assert.equal(await verifyPin('4321', h), true);
  assert.equal(await verifyPin('4320', h), false);
  assert.equal(await verifyPin('', h), false);
  assert.notEqual(await hashPin('4321'), h, 'salted');
});

test('agent lockout after AGENT_MAX_PIN_TRIES wrong PINs, told in minutes', async () => {
  const agents = new AgentStore(redis, key, { maxTries: 3, lockS: 1 });
  const phone = '0722000111';
  assert.deepEqual(await agents.checkPin(phone, '1111'), { ok: false, why: 'not_agent' });
  const { created } = await agents.add(phone);
  assert.equal(created, true);
  assert.equal((await agents.add('+254722000111')).created, false);
  assert.deepEqual(await agents.checkPin(phone, '1111'), { ok: false, why: 'not_active' });
  await agents.setPin(phone, '2468');
  assert.equal((await agents.checkPin(phone, '2468')).ok, true);
  assert.deepEqual(await agents.checkPin(phone, '1111'), { ok: false, why: 'wrong_pin', triesLeft: 2 });
  assert.deepEqual(await agents.checkPin(phone, '1111'), { ok: false, why: 'wrong_pin', triesLeft: 1 });
  assert.deepEqual(await agents.checkPin(phone, '1111'), { ok: false, why: 'locked', minutes: 1 });
  // Locked: even the right PIN is refused until the lock expires.
  assert.equal((await agents.checkPin(phone, '2468')).ok, false);
  const stored = await redis.hgetall(key('agent', '254722000111'));
  assert.ok(!JSON.stringify(stored).includes('2468'));
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await agents.checkPin(phone, '2468')).ok, true);
});

test('IPNs are recorded once per (ref, status); duplicates counted', async () => {
  const ipns = new IpnStore(redis, key);
  const u: TransactionUpdate = {
    gateway: 'kyanda',
    gatewayRef: `KYA${randomUUID().slice(0, 6)}`,
    status: 'succeeded',
    code: '0000',
    message: 'ok',
    details: {},
    raw: {},
  };
  const first = await ipns.record('kyanda', u, '{"a":1}');
  assert.equal(first.fresh, true);
  const dups = await Promise.all(Array.from({ length: 4 }, () => ipns.record('kyanda', u, '{"a":1}')));
  assert.equal(dups.filter((d) => d.fresh).length, 0);
  assert.equal((await ipns.get(first.id))?.count, 5);
  const pending = await ipns.record('kyanda', { ...u, status: 'pending' }, '{}');
  assert.equal(pending.fresh, true);
  assert.notEqual(pending.id, first.id);
  await ipns.markProcessed(first.id, 'done');
  assert.equal((await ipns.record('kyanda', u, '{}')).processed, true);
});

test('the invariant checker reports double vends, unpaid vends, stuck paid orders, both outcomes', async () => {
  const { checkInvariants } = await import('../../src/payments/invariants.js');
  const p2 = `ti${randomUUID().slice(0, 8)}:`;
  const st = new OrderStore(redis, (...p) => p2 + p.join(':'));
  const mk = async (tag: string) => {
    const d = draft(`${tag}-${randomUUID()}`);
    await st.create(d, 'c');
    return d.id;
  };
  const stuck = await mk('stuck');
  await st.transition(stuck, 'awaiting_payment', 's');
  await st.transition(stuck, 'paid', `${PAID_CAUSE} (test)`);
  const unpaid = await mk('unpaid');
  const twice = await mk('twice');
  await st.transition(twice, 'awaiting_payment', 's');
  await st.transition(twice, 'paid', `${PAID_CAUSE} (test)`);
  // Marked paid on an IPN's word, without the status lookup: reported.
  const trusting = await mk('trusting');
  await st.transition(trusting, 'awaiting_payment', 's');
  await st.transition(trusting, 'paid', 'ipn KYA1: checkout succeeded');
  await st.transition(trusting, 'fulfilling', 'f');
  await st.transition(trusting, 'fulfilled', 'ok');
  // Parked for a person: paid and neither fulfilled nor refunded is fine there.
  const parked = await mk('parked');
  await st.transition(parked, 'awaiting_payment', 's');
  await st.transition(parked, 'paid', `${PAID_CAUSE} (test)`);
  // A note made while paid is no move to paid (the chaos soak once took it for one).
  await st.note(parked, "checkout: found by the gateway's status lookup (succeeded)");
  await st.transition(parked, 'needs_attention', 'payment reversed');
  await st.transition(twice, 'fulfilling', 'f');
  await st.transition(twice, 'fulfilled', 'ok');
  const ledgerRows = [
    { endpoint: 'airtime', reference: `${unpaid}-fulfil` },
    { endpoint: 'airtime', reference: `${twice}-fulfil` },
    { endpoint: 'airtime', reference: `${twice}-fulfil` },
    { endpoint: 'checkout', reference: `${twice}-checkout` },
    { endpoint: 'bill' },
  ];
  const problems = await checkInvariants(st, ledgerRows);
  assert.ok(
    problems.some((p) => p.includes(stuck) && /paid but paid/.test(p)),
    problems.join('\n'),
  );
  assert.ok(problems.some((p) => p.includes(unpaid) && /without payment or PIN/.test(p)));
  assert.ok(problems.some((p) => p.includes(twice) && /2 vends/.test(p)));
  assert.ok(problems.some((p) => /no order reference/.test(p)));
  assert.ok(problems.some((p) => p.includes(trusting) && /paid without the gateway's status lookup/.test(p)));
  assert.ok(!problems.some((p) => p.includes(parked)));
  assert.equal(problems.length, 5, problems.join('\n'));
});
