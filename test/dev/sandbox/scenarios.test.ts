// _faults scenarios for money-safety tests (docs/sandbox.md): a short payment
// (checkoutPaid), a list of failNext rules, an IPN that says Success while the lookup says
// Pending and then Failed (ipnSaysSuccessButFails), and bad bodies refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, airtime, bill, checkout, sandboxWithReceiver } from './support.js';
import { MERCHANT } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';

const { gw, rx } = await sandboxWithReceiver({ SANDBOX_CHECKOUT_DELAY_MS: '150' });

const lookup = async (ref: string) => {
  const r = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(MERCHANT, ref) });
  return r.body.details as Record<string, unknown>;
};
const ipnsOf = (ref: unknown) => rx.received.filter((r) => r.body.transactionRef === ref);

test('checkoutPaid: the next `count` checkouts complete with that amount paid, in the IPN and the lookup', async () => {
  const set = await gw.faults({ checkoutPaid: { amount: 50, count: 1 } });
  assert.deepEqual(set.body.checkoutPaid, { amount: '50', count: 1 });
  const short = await gw.post('/billing/v1/checkout/create', checkout({ amount: '100' }));
  const full = await gw.post('/billing/v1/checkout/create', checkout({ amount: '100', phoneNumber: '0722000111' }));
  const a = await waitFor(() => ipnsOf(short.body.merchant_reference)[0]);
  assert.deepEqual([a.body.status, a.body.Amount], ['Success', '50']);
  assert.equal((await lookup(String(short.body.merchant_reference))).amount, '50');
  const b = await waitFor(() => ipnsOf(full.body.merchant_reference)[0]);
  assert.equal(b.body.Amount, '100', 'count 1: only the first checkout is short');
  assert.equal((await gw.get('/_faults')).body.checkoutPaid, null);
  // A decimal string is kept as sent.
  await gw.faults({ checkoutPaid: { amount: '49.50', count: 1 } });
  const c = await gw.post('/billing/v1/checkout/create', checkout({ amount: '102' }));
  assert.equal((await waitFor(() => ipnsOf(c.body.merchant_reference)[0])).body.Amount, '49.50');
});

test('failNext takes a list of rules, each with its own path and count', async () => {
  const r = await gw.faults({
    failNext: [
      { code: '1106', count: 1, path: 'airtime' },
      { code: '1107', count: 2, path: '/bill/' },
    ],
  });
  assert.equal(r.status, 200);
  assert.equal((r.body.failNext as unknown[]).length, 2);
  assert.equal((await gw.post('/billing/v1/bill/create', bill())).body.status_code, '1107');
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime())).body.status_code, '1106');
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime())).body.status_code, '0000');
  assert.deepEqual((await gw.get('/_faults')).body.failNext, [{ code: '1107', count: 1, path: '/bill/' }]);
  assert.equal((await gw.post('/billing/v1/bill/create', bill())).body.status_code, '1107');
  assert.equal((await gw.post('/billing/v1/bill/create', bill())).body.status_code, '0000');
  // One rule still works, and null clears.
  await gw.faults({ failNext: { code: '1105', count: 5 } });
  await gw.faults({ failNext: null });
  assert.equal((await gw.post('/billing/v1/bill/create', bill())).body.status_code, '0000');
});

test('ipnSaysSuccessButFails: a Success IPN while the lookup says Pending, then Failed with a Failed IPN', async () => {
  await gw.faults({ ipnSaysSuccessButFails: { count: 1 } });
  const c = await gw.post('/billing/v1/checkout/create', checkout({ amount: '300' }, { reference: 'lying-1' }));
  const ref = String(c.body.merchant_reference);
  const lie = await waitFor(() => ipnsOf(ref)[0]);
  assert.deepEqual([lie.body.status, lie.body.status_code], ['Success', '0000']);
  assert.ok(lie.signature, 'signed like any IPN: a signature proves nothing about the money');
  assert.equal((await lookup(ref)).status, 'Pending', "the gateway's own lookup does not confirm it");
  const truth = await waitFor(() => ipnsOf(ref)[1]);
  assert.equal(truth.body.status, 'Failed');
  assert.equal((await lookup(ref)).status, 'Failed');
  assert.equal((await gw.ledger()).find((e) => e.ref === ref)!.final, 'Failed');
  // Only the next checkout lies.
  const honest = await gw.post('/billing/v1/checkout/create', checkout({ amount: '301' }));
  const h = await waitFor(() => ipnsOf(honest.body.merchant_reference)[0]);
  assert.equal(h.body.status, 'Success');
  assert.equal((await lookup(String(honest.body.merchant_reference))).status, 'Success');
});

test('bad scenario bodies are refused with 400 and change nothing', async () => {
  for (const body of [
    { checkoutPaid: { amount: 'fifty', count: 1 } },
    { checkoutPaid: { amount: -5, count: 1 } },
    { checkoutPaid: { amount: 50, count: 1.5 } },
    { checkoutPaid: 'x' },
    { checkoutPaidAs: { count: 1 } },
    { checkoutPaidAs: { currency: 'shillings', count: 1 } },
    { checkoutPaidAs: { payer: 'someone', count: 1 } },
    {
      failNext: [
        { code: '1105', count: 1 },
        { code: 'nope', count: 1 },
      ],
    },
    { ipnSaysSuccessButFails: { count: -1 } },
    { checkoutReversal: { count: 1, afterMs: 'soon' } },
    { checkoutReversal: { count: 1, status: 'Lost' } },
    { unsignedIpn: 'yes' },
  ]) {
    const r = await gw.faults(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(String(r.body.error), /\S/);
  }
  const f = (await gw.get('/_faults')).body;
  assert.deepEqual(
    [f.checkoutPaid, f.checkoutPaidAs, f.failNext, f.ipnSaysSuccessButFails, f.checkoutReversal, f.unsignedIpn],
    [null, null, [], null, null, false],
  );
});
