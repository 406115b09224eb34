// Only the gateway's status lookup says a customer paid, and only a payment matching the order
// is fulfilled (issue "money safety", items 2 and 3; gateway fidelity, item 12):
// - paid less: nothing vended, needs_attention with the reason, what was paid refunded, SMS;
// - paid more: nothing vended, needs_attention;
// - the right amount in another currency, or from another phone: nothing vended, needs_attention;
// - a signed Success IPN while the gateway still says Pending, then its Failed: nothing vended;
// - a reversal after the vend (IPN and payment.reversed webhook): needs_attention;
// - a failure reported after the success (the status lookup now says Failed): needs_attention;
// - IPNs sent without any signature: the purchase completes on the lookups.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { start, ledger, orderOf, waitState, waitSms, assertInvariants, vendsFor, faults, type Svc } from './support.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

let s: Svc;
before(async () => {
  s = await start({ SANDBOX_CHECKOUT_DELAY_MS: '300', SANDBOX_WEBHOOK_EVENTS: 'all' });
});
after(() => s.svc.close());

async function buyAirtime(msisdn: string, kes: string): Promise<string> {
  const phone = new Phone(s.url, msisdn);
  await phone.dial();
  assert.match(await phone.walk('1', '1', kes, '1'), /^END You will receive an M-PESA prompt/);
  return (await orderOf(s, phone.sessionId)).id;
}

const payouts = async (id: string) => (await ledger(s)).filter((e) => e.endpoint === 'mobile-payout' && e.reference?.startsWith(id));

test('an underpayment is never fulfilled: needs_attention with the reason, the amount paid refunded, the customer told', async () => {
  await faults(s, { checkoutPaid: { amount: 50, count: 1 } });
  const id = await buyAirtime('+254712700001', '100');
  const done = await waitState(s, id, ['refunded'], 15_000);
  assert.equal(done.paidMinor, 5_000);
  assert.equal(done.refundMinor, 5_000);
  assert.equal(done.reasonCode, 'UNDERPAID');
  const h = await s.payments.store.history(id);
  assert.ok(
    h.some(
      (e) =>
        e.to === 'needs_attention' &&
        /^payment confirmed by the gateway's status lookup .*does not match the order: paid KES 50\.00 of KES 100\.00/.test(e.cause),
    ),
    h.map((e) => e.cause).join(' | '),
  );
  assert.equal(h.filter((e) => e.to === 'paid').length, 0, 'never counted as paid for the order');
  assert.equal(vendsFor(await ledger(s), id).length, 0, 'nothing vended');
  const refunds = await payouts(id);
  assert.equal(refunds.length, 1);
  assert.equal((refunds[0]!.body.destination as { amount: string }).amount, '50', 'what was paid, not the order amount');
  await waitSms(s, '+254712700001', /You paid KES 50 instead of KES 100/);
  await waitSms(s, '+254712700001', /KES 50 has been refunded/);
  await assertInvariants(s);
});

test('an overpayment is never fulfilled: needs_attention for a person, nothing vended', async () => {
  await faults(s, { checkoutPaid: { amount: 500, count: 1 } });
  const id = await buyAirtime('+254712700002', '100');
  const o = await waitState(s, id, ['needs_attention'], 15_000);
  assert.match(o.attention!, /paid KES 500\.00 for an order of KES 100\.00/);
  assert.equal(o.reasonCode, 'OVERPAID');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(vendsFor(await ledger(s), id).length, 0);
  assert.equal((await payouts(id)).length, 0, 'an overpayment waits for a person');
  const listed = (await (
    await fetch(`${s.url}/api/orders?state=needs_attention`, { headers: { authorization: 'Bearer test-api-token-0123456789' } })
  ).json()) as { orders: Array<{ id: string }> };
  assert.ok(listed.orders.some((x) => x.id === id));
  await assertInvariants(s);
});

test('a signed Success IPN while the checkout is pending, then the gateway says Failed: nothing vended, the customer told', async () => {
  await faults(s, { ipnSaysSuccessButFails: { count: 1 } });
  const id = await buyAirtime('+254712700003', '110');
  const o = await waitState(s, id, 'terminal', 15_000);
  assert.equal(o.state, 'failed');
  const h = await s.payments.store.history(id);
  assert.ok(
    h.some((e) => /status lookup after IPN .*\(succeeded\): checkout pending/.test(e.cause)),
    'the IPN made us look, and the gateway said pending',
  );
  assert.equal(h.filter((e) => e.to === 'paid').length, 0);
  assert.equal(vendsFor(await ledger(s), id).length, 0);
  await waitSms(s, '+254712700003', 'was not completed');
  await assertInvariants(s);
});

test('a payment reversed after the vend (IPN and payment.reversed webhook): needs_attention, not silently dropped', async () => {
  await faults(s, { checkoutReversal: { count: 1, afterMs: 1000 } });
  const id = await buyAirtime('+254712700004', '120');
  assert.equal((await waitState(s, id, ['fulfilled'], 15_000)).state, 'fulfilled');
  const o = await waitState(s, id, ['needs_attention'], 15_000);
  assert.match(o.attention!, /reversed by the gateway after it was confirmed/);
  assert.equal(o.attentionFrom, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  // The webhook for the reversal arrived too, and was recorded (a reason to look, like the IPN).
  await waitFor(async () => {
    const r = await s.payments.ipns.recent(50);
    return r.some((x) => x.status === 'reversed') ? true : undefined;
  }, 5000);
  await assertInvariants(s);
});

test('a payment the gateway reports failed after it was confirmed and vended: needs_attention, not silently dropped', async () => {
  await faults(s, { checkoutReversal: { count: 1, afterMs: 1000, status: 'Failed' } });
  const id = await buyAirtime('+254712700008', '160');
  assert.equal((await waitState(s, id, ['fulfilled'], 15_000)).state, 'fulfilled');
  const o = await waitState(s, id, ['needs_attention'], 15_000);
  assert.match(o.attention!, /the gateway's status now says the payment failed after it was confirmed/);
  assert.equal(o.attentionFrom, 'fulfilled');
  assert.equal(o.attentionStep, 'checkout');
  const h = await s.payments.store.history(id);
  assert.ok(
    h.some((e) => e.from === 'fulfilled' && e.to === 'needs_attention' && /status lookup after IPN .*: checkout failed 5000/.test(e.cause)),
    h.map((e) => e.cause).join(' | '),
  );
  assert.equal(vendsFor(await ledger(s), id).length, 1, 'vended once, never again');
  assert.equal((await payouts(id)).length, 0, 'no refund of a payment that failed');
  await assertInvariants(s);
});

test('IPNs without any signature (as the documentation shows them): the purchase completes on the lookups', async () => {
  await faults(s, { unsignedIpn: true });
  try {
    const id = await buyAirtime('+254712700005', '130');
    assert.equal((await waitState(s, id, 'terminal', 15_000)).state, 'fulfilled');
    const unsigned = (await s.payments.ipns.recent(100)).filter((r) => r.body.includes(`${id}-checkout`));
    assert.ok(unsigned.length > 0, 'the IPN was recorded');
  } finally {
    await faults(s, { unsignedIpn: false });
  }
  await assertInvariants(s);
});

test('a payment confirmed for the right amount but in another currency is never fulfilled: needs_attention with the reason', async () => {
  await faults(s, { checkoutPaidAs: { currency: 'UGX', count: 1 } });
  const id = await buyAirtime('+254712700006', '140');
  const o = await waitState(s, id, ['needs_attention'], 15_000);
  assert.equal(o.reasonCode, 'CURRENCY');
  assert.match(o.attention!, /payment does not match the order: paid in UGX, the order is in KES/);
  const h = await s.payments.store.history(id);
  assert.ok(
    h.some((e) => e.to === 'needs_attention' && /^payment confirmed by the gateway's status lookup .*does not match the order: paid in UGX/.test(e.cause)),
    h.map((e) => e.cause).join(' | '),
  );
  assert.equal(h.filter((e) => e.to === 'paid').length, 0, 'never counted as paid for the order');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(vendsFor(await ledger(s), id).length, 0, 'nothing vended');
  assert.equal((await payouts(id)).length, 0, 'waits for a person');
  await assertInvariants(s);
});

test('a payment confirmed for the right amount from another phone is never fulfilled: needs_attention with the reason', async () => {
  await faults(s, { checkoutPaidAs: { payer: '254799000111', count: 1 } });
  const id = await buyAirtime('+254712700007', '150');
  const o = await waitState(s, id, ['needs_attention'], 15_000);
  assert.equal(o.reasonCode, 'PAYER');
  assert.match(o.attention!, /payment does not match the order: paid from another phone than the one that ordered/);
  assert.equal(o.paidMinor, 15_000, 'the right amount was paid');
  const h = await s.payments.store.history(id);
  assert.equal(h.filter((e) => e.to === 'paid').length, 0, 'never counted as paid for the order');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(vendsFor(await ledger(s), id).length, 0, 'nothing vended');
  assert.equal((await payouts(id)).length, 0, 'waits for a person');
  await assertInvariants(s);
});
