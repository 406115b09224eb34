// Reconciliation takes the 200 longest-quiet open orders per run. Orders it cannot move (gateway
// unreachable, still pending) must not hold those places forever: each run moves on, so a newer
// order stuck behind them is still reached, and the money invariant still holds.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { stepRef } from '../../src/payments/ids.js';
import { checkInvariants } from '../../src/payments/invariants.js';
import { seedOrder, start, type Svc } from './support.js';

let s: Svc;
// A gateway that is not there (connect refused at once, one attempt): every lookup fails fast.
before(async () => {
  s = await start({ GATEWAY_URL: 'http://127.0.0.1:1', GATEWAY_MAX_ATTEMPTS: '1' }, { workers: false });
});
after(() => s.svc.close());

test('orders that cannot be moved do not starve newer ones', async () => {
  // Checkouts that were sent: reconciliation must ask the (unreachable) gateway about each.
  for (let i = 0; i < 201; i++) {
    const id = await seedOrder(s, `stuck-${i}`, '+254712600001', 10_000, ['awaiting_payment']);
    await s.payments.store.markSent(id, 'checkout');
  }
  await new Promise((r) => setTimeout(r, 5));
  // Newer: a paid order whose fulfilment job was lost; reconciliation would re-drive it.
  const lost = await seedOrder(s, 'lost', '+254712600002', 10_000, ['awaiting_payment', 'paid']);
  const first = await s.payments.reconcile(0, 3_600_000);
  assert.equal(first.error, 200, JSON.stringify(first));
  await s.payments.reconcile(0, 3_600_000);
  const job = await s.payments.jobs.queue.getJob(stepRef(lost, 'fulfil'));
  assert.ok(job, 'the second run reached the newer order and re-drove its fulfilment');
  // The money invariant holds. Nothing can settle here (no workers, no gateway), so "every paid
  // order settled" is not asked; the rest is (nothing paid without the gateway's status lookup,
  // no refund without payment, …). Nothing reached any gateway: the ledger is empty.
  assert.deepEqual(await checkInvariants(s.payments.store, [], { settled: false }), []);
});
