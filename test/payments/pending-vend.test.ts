// A vend the gateway keeps calling pending (queued with offline_mode while it is down, its IPN
// never coming) does not leave a paid order "fulfilling" for ever: once the step's budget is
// spent, the reconciliation that looks it up parks it for a person; when the gateway finally
// finishes it, the late success still fulfils it from needs_attention, with one vend.
// Found by the chaos soak (orders still fulfilling minutes after the run, seeds 20261202/3).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, seedOrder, faults, ledger, vendsFor, waitState, assertInvariants } from './support.js';

const s = await start({ MONEY_RETRY_BUDGET_S: '2' });
after(() => s.svc.close());

test('a vend pending at the gateway past the budget: needs_attention; finished later, fulfilled with one vend', async () => {
  const id = await seedOrder(s, 'pending-vend', '+254712500001', 10_000, ['awaiting_payment', 'paid']);
  await faults(s, { down: true });
  try {
    await s.payments.enqueue(id, 'fulfil');
    // Queued by the gateway (offline_mode): pending, nothing decided yet.
    for (let i = 0; i < 40 && (await s.payments.store.stepInfo(id, 'fulfil')).ref === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await s.payments.store.get(id))?.state, 'fulfilling');
    // Within the budget, reconciliation's look-up leaves it as it is.
    await s.payments.reconcile(0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await s.payments.store.get(id))?.state, 'fulfilling');
    // Past the budget, the next look-up parks it for a person.
    await new Promise((r) => setTimeout(r, 2200));
    for (let i = 0; i < 20 && (await s.payments.store.get(id))?.state !== 'needs_attention'; i++) {
      await s.payments.reconcile(0);
      await new Promise((r) => setTimeout(r, 250));
    }
    const parked = await s.payments.store.get(id);
    assert.equal(parked?.state, 'needs_attention');
    assert.match(parked!.attention!, /^fulfil unresolved after 2 s: /);
    assert.equal(parked!.attentionFrom, 'fulfilling');
  } finally {
    await faults(s, { down: false });
  }
  // The gateway is back and runs the queued vend; its IPN and the lookup settle the order.
  const done = await waitState(s, id, ['fulfilled'], 15_000);
  assert.equal(done.state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  await assertInvariants(s);
});
