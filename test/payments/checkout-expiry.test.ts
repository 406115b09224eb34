// A checkout that never completes: reconciliation must not leave the order awaiting payment
// forever. Past the expiry it closes the order, tells the subscriber by SMS, and never sends a
// late STK push; a payment that still arrives afterwards is refunded, never vended. The money
// invariant (src/payments/invariants.ts) holds after each.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { assertInvariants, ledger, seedOrder, start, waitSms, waitState, vendsFor, type Svc } from './support.js';

let s: Svc;
// The sandbox's STK push is answered after 2 s: long enough to expire the order first.
before(async () => {
  s = await start({ SANDBOX_CHECKOUT_DELAY_MS: '2000' });
});
after(() => s.svc.close());

const awaiting = (tag: string, phone: string) => seedOrder(s, tag, phone, 12_000, ['awaiting_payment']);

test('a checkout pending too long is expired by reconciliation and the subscriber told; paid after all, it is refunded', async () => {
  const id = await awaiting('stk-pending', '+254712300001');
  await s.payments.enqueue(id, 'checkout');
  const until = Date.now() + 5000;
  while (!(await s.payments.store.get(id))?.checkoutRef) {
    assert.ok(Date.now() < until, 'checkout sent and pending');
    await new Promise((r) => setTimeout(r, 25));
  }
  // Not yet expired: still pending, left alone.
  assert.equal(await s.payments.reconcileOne(id), 'still pending');
  assert.equal((await s.payments.store.get(id))?.state, 'awaiting_payment');
  // Past the expiry: closed and told.
  const r = await s.payments.reconcileOne(id, { expireAfterMs: 0 });
  assert.equal(r, 'checkout expired');
  assert.equal((await waitState(s, id, 'terminal')).state, 'cancelled');
  await waitSms(s, '+254712300001', 'was not completed');
  // The subscriber pays the prompt after all: its IPN, then the status lookup, confirm it;
  // the money goes back, nothing is vended.
  assert.equal((await waitState(s, id, ['refunded'], 10_000)).state, 'refunded');
  const payouts = (await ledger(s)).filter((e) => e.endpoint === 'mobile-payout' && e.reference === `${id}-refund1`);
  assert.equal(payouts.length, 1, 'refunded by one payout');
  assert.equal(vendsFor(await ledger(s), id).length, 0);
  await waitSms(s, '+254712300001', 'refunded');
  await assertInvariants(s);
});

test('a checkout sent long after its order was created gets its whole expiry from when it left', async () => {
  const id = await awaiting('stk-late', '+254712300004');
  await new Promise((r) => setTimeout(r, 1200)); // the order waits (a held checkout), past a 1 s expiry
  await s.payments.enqueue(id, 'checkout');
  const until = Date.now() + 5000;
  while (!(await s.payments.store.get(id))?.checkoutRef) {
    assert.ok(Date.now() < until, 'checkout sent and pending');
    await new Promise((r) => setTimeout(r, 25));
  }
  // The prompt has just reached the handset: not expired, whatever the order's age.
  assert.equal(await s.payments.reconcileOne(id, { expireAfterMs: 1000 }), 'still pending');
  assert.equal((await s.payments.store.get(id))?.state, 'awaiting_payment');
  // The subscriber pays it: fulfilled, not refunded.
  assert.equal((await waitState(s, id, 'terminal', 10_000)).state, 'fulfilled');
  await assertInvariants(s);
});

test('an expired checkout the gateway never saw is closed, not sent late', async () => {
  const id = await awaiting('stk-lost', '+254712300002');
  // The checkout job was lost before it reached the gateway; the order is past its expiry.
  const counts = await s.payments.reconcile(0, 0);
  assert.ok((counts['checkout expired'] ?? 0) >= 1, JSON.stringify(counts));
  assert.equal((await s.payments.store.get(id))?.state, 'cancelled');
  await waitSms(s, '+254712300002', 'was not completed');
  await new Promise((r) => setTimeout(r, 300));
  const pushes = (await ledger(s)).filter((e) => e.endpoint === 'checkout' && e.reference?.startsWith(id));
  assert.equal(pushes.length, 0, 'no STK push sent after the expiry');
  assert.deepEqual(
    (await s.payments.store.history(id)).filter((e) => e.from !== e.to).map((e) => e.to),
    ['created', 'awaiting_payment', 'cancelled'],
  );
  await assertInvariants(s);
});

test('an order abandoned before payment was requested is closed and the subscriber told', async () => {
  const id = await seedOrder(s, 'abandoned', '+254712300003', 12_000, []);
  assert.equal(await s.payments.reconcileOne(id), 'abandoned');
  assert.equal((await s.payments.store.get(id))?.state, 'cancelled');
  await waitSms(s, '+254712300003', 'was not completed');
  await assertInvariants(s);
});
