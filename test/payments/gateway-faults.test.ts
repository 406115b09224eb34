// The gateway misbehaving: slower than the USSD deadline, down (1105) then back, IPNs lost
// (reconciliation), a vend whose request timed out and whose lookup says "not found" (held,
// never sent again). After each scenario the invariants hold.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { orderIdFor } from '../../src/payments/ids.js';
import { PAID_CAUSE } from '../../src/payments/invariants.js';
import {
  start,
  seedOrder,
  startWithSandbox,
  ledger,
  orderOf,
  payAtGateway,
  waitState,
  waitSms,
  assertInvariants,
  vendsFor,
  faults,
  type Svc,
} from './support.js';
import { startSandbox } from '../support/sandbox.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

// This file's faults are outages, latency and lost IPNs, not the allowance: its many lookups
// must not run into the account's 60 requests a minute and leave a receipt waiting for a slot.
const sb = await startSandbox({ SANDBOX_RATE_LIMIT_PER_MIN: '100000' });
const s = await startWithSandbox(sb, { USSD_DEADLINE_MS: '1000', GATEWAY_RATE_LIMIT_PER_MIN: '100000' });
after(async () => {
  await s.svc.close();
  await sb.close();
});

/** The references of the refund payouts the gateway received for order `id`, in order. */
async function payoutRefs(id: string): Promise<Array<string | undefined>> {
  return (await ledger(s)).filter((e) => e.endpoint === 'mobile-payout' && e.reference?.startsWith(id)).map((e) => e.reference);
}

async function agent(msisdn: string, pin: string): Promise<void> {
  await s.agents.add(msisdn);
  await s.agents.setPin(msisdn, pin);
}

test('gateway slower than the deadline: float sale shows "processing", then vends once and SMSes', async () => {
  await agent('+254722200001', '1234');
  await faults(s, { latencyMs: 1500 });
  try {
    const phone = new Phone(s.url, '+254722200001');
    await phone.dial();
    await phone.walk('6', '2', '1', '0712200001', '120');
    const t = Date.now();
    const end = await phone.send('1234');
    const ms = Date.now() - t;
    assert.match(end, /^END We are processing your request\. You will receive an SMS/);
    assert.ok(ms < 1000, `answered in ${ms} ms, within USSD_DEADLINE_MS`);
    const o = await orderOf(s, phone.sessionId);
    assert.equal((await waitState(s, o.id, 'terminal', 15_000)).state, 'fulfilled');
    await waitSms(s, '+254722200001', 'Success', 15_000);
    assert.equal(vendsFor(await ledger(s), o.id).length, 1);
  } finally {
    await faults(s, { latencyMs: 0 });
  }
  await assertInvariants(s);
});

test('checkout confirm answers within the deadline even when the gateway is slow (checkout runs after)', async () => {
  await faults(s, { latencyMs: 1500 });
  try {
    const phone = new Phone(s.url, '+254712200002');
    await phone.dial();
    await phone.walk('1', '1', '110');
    const t = Date.now();
    assert.match(await phone.send('1'), /^END You will receive an M-PESA prompt/);
    assert.ok(Date.now() - t < 1000, 'confirming screen within USSD_DEADLINE_MS');
    const o = await orderOf(s, phone.sessionId);
    assert.equal((await waitState(s, o.id, 'terminal', 15_000)).state, 'fulfilled');
  } finally {
    await faults(s, { latencyMs: 0 });
  }
  await assertInvariants(s);
});

test('gateway down (1105) then back: the checkout waits and goes out once, without offline_mode, when it is back', async () => {
  await faults(s, { down: true });
  const phone = new Phone(s.url, '+254712200003');
  await phone.dial();
  assert.match(await phone.walk('1', '1', '130', '1'), /^END You will receive an M-PESA prompt/);
  const o = await orderOf(s, phone.sessionId);
  // Refused while down (1105): the step waits, its order still awaiting payment, nothing sent.
  await waitFor(async () => ((await s.payments.store.history(o.id)).some((e) => /checkout: refused for now \(1105\)/.test(e.cause)) ? true : undefined), 5000);
  assert.equal((await s.payments.store.get(o.id))?.state, 'awaiting_payment');
  assert.equal((await ledger(s)).filter((x) => x.endpoint === 'checkout' && x.reference === `${o.id}-checkout`).length, 0);
  await faults(s, { down: false });
  assert.equal((await waitState(s, o.id, 'terminal', 15_000)).state, 'fulfilled');
  await waitSms(s, '+254712200003', 'Success', 15_000);
  // A checkout is never queued with offline_mode: an STK push hours later would surprise the customer.
  const pushes = (await ledger(s)).filter((x) => x.endpoint === 'checkout' && x.reference === `${o.id}-checkout`);
  assert.equal(pushes.length, 1);
  assert.notEqual(pushes[0]!.body.offline_mode, true);
  await assertInvariants(s);
});

test('an agent sale while the gateway is down: processing, vended after recovery, SMS', async () => {
  await agent('+254722200004', '4321');
  await faults(s, { down: true });
  const phone = new Phone(s.url, '+254722200004');
  await phone.dial();
  const end = await phone.walk('6', '2', '1', '0712200004', '140', '4321');
  assert.match(end, /^END We are processing your request/);
  const o = await orderOf(s, phone.sessionId);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await s.payments.store.get(o.id))?.state, 'fulfilling');
  await faults(s, { down: false });
  assert.equal((await waitState(s, o.id, 'terminal', 15_000)).state, 'fulfilled');
  await waitSms(s, '+254722200004', 'Success', 15_000);
  assert.equal(vendsFor(await ledger(s), o.id).length, 1);
  await assertInvariants(s);
});

test('lost IPNs: reconciliation looks the order up and moves it on', async () => {
  // Point the gateway's IPNs at a dead address: every IPN from now on is lost.
  const reg = await s.svc.app.gateway.registerCallback('http://127.0.0.1:9/nowhere');
  assert.equal(reg.kind, 'succeeded');
  try {
    const phone = new Phone(s.url, '+254712200005');
    await phone.dial();
    await phone.walk('1', '1', '150', '1');
    const o = await orderOf(s, phone.sessionId);
    await new Promise((r) => setTimeout(r, 1500)); // the checkout completes at the gateway; its IPN is lost
    assert.equal((await s.payments.store.get(o.id))?.state, 'awaiting_payment');
    const counts = await s.payments.reconcile(500);
    assert.ok((counts['settled succeeded'] ?? 0) >= 1, JSON.stringify(counts));
    // The vend's IPN is lost too (vends for a customer who paid are queued, offline_mode, and
    // finish by IPN): the next runs look it up.
    for (let i = 0; i < 40 && (await s.payments.store.get(o.id))?.state !== 'fulfilled'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await s.payments.reconcile(0);
    }
    assert.equal((await waitState(s, o.id, 'terminal')).state, 'fulfilled');
    const h = await s.payments.store.history(o.id);
    assert.ok(h.some((e) => e.to === 'paid' && /reconcile lookup/.test(e.cause)));
  } finally {
    await s.svc.app.gateway.registerCallback(`${s.url}/callbacks/kyanda`);
  }
  await assertInvariants(s);
});

test('a failed refund is retried under a new reference until it goes through', async () => {
  // An order that was paid and whose vend failed (as in the refund test of checkout.test.ts),
  // set up directly so the payout failure can be armed first.
  const st = s.payments.store;
  const id = orderIdFor(`refund-retry-${Date.now()}`);
  await st.create(
    { id, idem: id, kind: 'airtime', pay: 'checkout', phone: '+254712200006', lang: 'en', amountMinor: 16_000, recipient: '+254712200006', telco: 'SAFARICOM' },
    'test',
  );
  await st.transition(id, 'awaiting_payment', 'test');
  await st.transition(id, 'paid', `${PAID_CAUSE} (test: paid by checkout)`);
  await st.transition(id, 'fulfilling', 'test');
  await st.transition(id, 'refunding', 'test: vend failed', { set: { refundAttempt: 1 } });
  await faults(s, { failNext: { code: '1107', count: 1, path: 'mobile-payout' } });
  await s.payments.enqueue(id, 'refund1');
  const done = await waitState(s, id, ['refunded'], 15_000);
  assert.equal(done.refundAttempt, 2);
  assert.deepEqual(await payoutRefs(id), [`${id}-refund2`], 'refund1 was refused; refund2 paid once');
  const h = await st.history(id);
  assert.ok(h.some((e) => /refund1 failed 1107.*refund2 scheduled/.test(e.cause)));
  await waitSms(s, '+254712200006', 'refunded', 10_000);
  await assertInvariants(s);
});

/** An order paid by checkout whose vend failed: refunding, at refund attempt 1, no job queued. */
async function refundingOrder(name: string, phone: string): Promise<string> {
  const st = s.payments.store;
  const id = orderIdFor(`${name}-${Date.now()}`);
  await st.create({ id, idem: id, kind: 'airtime', pay: 'checkout', phone, lang: 'en', amountMinor: 11_000, recipient: phone, telco: 'SAFARICOM' }, 'test');
  await st.transition(id, 'awaiting_payment', 'test');
  await st.transition(id, 'paid', `${PAID_CAUSE} (test: paid by checkout)`);
  await st.transition(id, 'fulfilling', 'test');
  await st.transition(id, 'refunding', 'test: vend failed', { set: { refundAttempt: 1 } });
  return id;
}

test('one refund failure reported twice at once (its IPN and a lookup) schedules one next attempt, and one payout goes out', async () => {
  const id = await refundingOrder('refund-twice', '+254712200016');
  const failed = { status: 'failed' as const, code: '1107', message: 'test: payout refused' };
  await Promise.all([s.payments.settle(id, 'refund1', failed, 'ipn'), s.payments.settle(id, 'refund1', failed, 'reconcile lookup')]);
  const h = await s.payments.store.history(id);
  assert.equal(h.filter((e) => /refund2 scheduled/.test(e.cause)).length, 1, JSON.stringify(h.map((e) => e.cause)));
  assert.equal((await s.payments.store.get(id))?.refundAttempt, 2);
  // The same failure again, later (a late IPN): the order has moved on, nothing more is scheduled.
  await s.payments.settle(id, 'refund1', failed, 'late ipn');
  assert.equal((await s.payments.store.get(id))?.refundAttempt, 2);
  assert.equal((await waitState(s, id, ['refunded'], 15_000)).refundAttempt, 2);
  assert.deepEqual(await payoutRefs(id), [`${id}-refund2`]);
  await assertInvariants(s);
});

test('a refund failure whose earlier handling died part-way (a worker killed) is handled in full when reconciliation re-drives it', async () => {
  const id = await refundingOrder('refund-part', '+254712200018');
  // Earlier releases marked the failure handled (a once-flag) before scheduling the next
  // attempt; killed between the two, the order sat in refunding forever. Orders left so by an
  // old worker must still be refunded.
  await s.payments.store.once(id, 'refund1failed');
  await s.payments.settle(id, 'refund1', { status: 'failed', code: '1107', message: 'test: payout refused' }, 'reconcile lookup');
  assert.equal((await s.payments.store.get(id))?.refundAttempt, 2);
  assert.equal((await waitState(s, id, ['refunded'], 15_000)).refundAttempt, 2);
  await assertInvariants(s);
});

test('a refund handler that died after scheduling the next attempt but before queueing it: reconciliation sends that attempt', async () => {
  const id = await refundingOrder('refund-died', '+254712200017');
  // What the failure handling writes, with the process gone before its job was queued.
  assert.equal(
    await s.payments.store.note(id, 'test: refund1 failed; refund2 scheduled', { refundAttempt: 2 }, { state: 'refunding', refundAttempt: 1 }),
    true,
  );
  assert.equal(
    await s.payments.store.note(id, 'test: the same again', { refundAttempt: 2 }, { state: 'refunding', refundAttempt: 1 }),
    false,
    'the guard holds',
  );
  assert.equal(await s.payments.reconcileOne(id), 'refund2 redriven');
  assert.equal((await waitState(s, id, ['refunded'], 15_000)).refundAttempt, 2);
  assert.deepEqual(await payoutRefs(id), [`${id}-refund2`]);
  await assertInvariants(s);
});

test('reconciliation re-drives a paid order whose fulfilment job was lost, and closes abandoned ones', async () => {
  const st = s.payments.store;
  const id = orderIdFor(`lost-fulfil-${Date.now()}`);
  await st.create(
    { id, idem: id, kind: 'airtime', pay: 'checkout', phone: '+254712200007', lang: 'sw', amountMinor: 19_000, recipient: '+254712200007', telco: 'SAFARICOM' },
    'test',
  );
  await st.transition(id, 'awaiting_payment', 'test');
  await st.transition(id, 'paid', `${PAID_CAUSE} (test: paid, fulfil job never queued)`);
  const abandoned = orderIdFor(`abandoned-${Date.now()}`);
  await st.create(
    { id: abandoned, idem: abandoned, kind: 'merchant', pay: 'checkout', phone: '+254712200008', lang: 'en', amountMinor: 1_000, merchant: 'ABC' },
    'test',
  );
  const counts = await s.payments.reconcile(0);
  assert.ok((counts['fulfil redriven'] ?? 0) >= 1 && (counts.abandoned ?? 0) >= 1, JSON.stringify(counts));
  assert.equal((await waitState(s, id, 'terminal')).state, 'fulfilled');
  assert.equal((await st.get(abandoned))?.state, 'cancelled');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  await waitSms(s, '+254712200007', 'Imefanikiwa'); // Swahili receipt
  const schedulers = await s.payments.jobs.queue.getJobSchedulers();
  assert.ok(
    schedulers.some((j) => j.key === 'reconcile' && Number(j.every) === 3600 * 1000),
    JSON.stringify(schedulers),
  );
  await assertInvariants(s);
});

test('a payment confirmed after the order was closed as failed is refunded, never vended', async () => {
  const st = s.payments.store;
  const id = orderIdFor(`late-pay-${Date.now()}`);
  await st.create(
    { id, idem: id, kind: 'airtime', pay: 'checkout', phone: '+254712200009', lang: 'en', amountMinor: 21_000, recipient: '+254712200009', telco: 'SAFARICOM' },
    'test',
  );
  await st.transition(id, 'awaiting_payment', 'test');
  // The customer's checkout is under way at the gateway (it completes in a moment) while we
  // already believed it had failed.
  await payAtGateway(s, id, '+254712200009', 21_000);
  await st.transition(id, 'failed', 'test: checkout reported failed');
  // The IPN of the success arrives; the status lookup confirms it: refunded, never vended.
  const done = await waitState(s, id, ['refunded'], 10_000);
  assert.equal(done.state, 'refunded');
  assert.equal(vendsFor(await ledger(s), id).length, 0);
  const h = await st.history(id);
  assert.deepEqual(
    h.filter((e) => e.from !== e.to).map((e) => e.to),
    ['created', 'awaiting_payment', 'failed', 'refunding', 'refunded'],
  );
  // One move from failed to refunding, recording the payment: never a paid order that could be vended.
  const cause = h.find((e) => e.to === 'refunding')!.cause;
  assert.ok(cause.startsWith(PAID_CAUSE) && cause.includes('late payment: refund'), cause);
  assert.equal(done.paidMinor, 21_000);
  await assertInvariants(s);
});

test('a vend timed out before any answer, then "not found" (7001) by the lookup: held, never sent again; needs_attention at the budget; found later, fulfilled with one vend', async () => {
  // Its own gateway, whose IPNs reach nobody (registration refused): only lookups can tell.
  const sb2 = await startSandbox();
  const gw2 = { gw: sb2.url } as Svc;
  await faults(gw2, { failNext: { code: '6002', count: 1, path: 'callback-url' } });
  const s2 = {
    ...(await start({
      GATEWAY_URL: sb2.url,
      GATEWAY_TIMEOUT_MS: '300',
      GATEWAY_LOOKUP_TIMEOUT_MS: '3000',
      MONEY_RETRY_BUDGET_S: '3',
      PAYMENTS_MAX_WAIT_MS: '300',
    })),
    gw: sb2.url,
  };
  try {
    // The service's registration has met the refusal (the rule is used up).
    await waitFor(async () => ((await (await fetch(`${sb2.url}/sandbox/_faults`)).json()) as { failNext: unknown[] }).failNext.length === 0 || undefined, 5000);
    const id = await seedOrder(s2, 'vend-timeout', '+254712200099', 11_000, ['awaiting_payment', 'paid']);
    // Every answer comes after the vend's 300 ms timeout; every lookup by our reference says 7001.
    await faults(s2, { latencyMs: 800, failNext: { code: '7001', count: 100_000, path: 'verify' } });
    await s2.payments.enqueue(id, 'fulfil');
    const parked = await waitState(s2, id, ['needs_attention'], 15_000);
    assert.equal(parked.attentionStep, 'fulfil');
    assert.equal(parked.attentionFrom, 'fulfilling');
    assert.match(parked.attention!, /^fulfil unresolved after 3 s: fulfilment outcome unknown/);
    const vends = vendsFor(await ledger(s2), id);
    assert.equal(vends.length, 1, 'the gateway received it once; "not found" never made us send it again');
    assert.equal(vends[0]!.reference, `${id}-fulfil`);
    const h = await s2.payments.store.history(id);
    assert.ok(
      h.some((e) => /^fulfil: outcome unknown \(TIMEOUT\); will look it up/.test(e.cause)),
      'the request timed out unanswered',
    );
    const held = h.filter((e) => /^fulfil: outcome unknown \(the gateway has no record under our reference\); held, not sent again/.test(e.cause));
    assert.ok(held.length >= 1, h.map((e) => e.cause).join(' | '));
    // The gateway answers truly again: an operator's retry looks it up, finds it done, sends nothing.
    await faults(s2, { latencyMs: 0, failNext: null });
    const r = await fetch(`${s2.url}/api/orders/${id}/retry`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json' },
    });
    assert.equal(r.status, 200);
    assert.equal((await waitState(s2, id, ['fulfilled'], 10_000)).state, 'fulfilled');
    assert.equal(vendsFor(await ledger(s2), id).length, 1, 'still one vend');
    assert.ok((await s2.payments.store.history(id)).some((e) => /^fulfil: found by the gateway's status lookup \(succeeded\)/.test(e.cause)));
    await assertInvariants(s2);
  } finally {
    await s2.svc.close();
    await sb2.close();
  }
});
