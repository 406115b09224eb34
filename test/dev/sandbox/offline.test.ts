// offline_mode as the gateway documents it (docs/gateways.md, "Offline mode"): always taken at
// once with 200 and status QUEUED; processed right away when up; when down, tried again after
// 1, 5, 15, 60 and 360 minutes (here × 0.0001: 6, 30, 90, 360, 2160 ms); rejections and a final
// failure come by IPN (and a payment.failed webhook event).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, airtime, checkout, sms, sandboxWithReceiver } from './support.js';
import { MERCHANT } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';

const { gw, rx } = await sandboxWithReceiver({ SANDBOX_IPN_TIME_SCALE: '0.0001', SANDBOX_CHECKOUT_DELAY_MS: '50', SANDBOX_FLOAT_KES: '5000' });

const status = async (ref: string) => {
  const r = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(MERCHANT, ref) });
  return r.body.details as Record<string, unknown>;
};

test('up: offline_mode answers 200 QUEUED at once, then processes right away and finishes with an IPN', async () => {
  const r = await gw.post('/billing/v1/airtime/create', { ...airtime({ amount: '120' }), offline_mode: true, metadata: { reference: 'off-up-1' } });
  assert.equal(r.status, 200);
  assert.deepEqual([r.body.status, r.body.status_code], ['QUEUED', '1100']);
  const ref = String(r.body.merchant_reference);
  const ipn = await waitFor(() => rx.received.find((x) => x.body.transactionRef === ref));
  assert.deepEqual([ipn.body.status, ipn.body.status_code, ipn.body.Amount], ['Success', '0000', '120']);
  assert.deepEqual(ipn.body.requestMetadata, { reference: 'off-up-1' });
  assert.equal((await status(ref)).status, 'Success');
  const entry = (await gw.ledger()).find((e) => e.ref === ref)!;
  assert.equal((entry.attempts as string[]).length, 1, 'one try: the service was up');
  // A checkout queued while up also runs: Pending, then its outcome by IPN.
  const c = await gw.post('/billing/v1/checkout/create', { ...checkout({ amount: '130' }), offline_mode: true });
  assert.equal(c.body.status, 'QUEUED');
  const cipn = await waitFor(() => rx.received.find((x) => x.body.transactionRef === c.body.merchant_reference));
  assert.equal(cipn.body.status, 'Success');
});

test('down all along: tried on the scaled 1/5/15/60/360-minute schedule, then Failed by IPN and payment.failed', async () => {
  assert.equal((await gw.webhooks({ events: ['payment.failed'] })).status, 200);
  await gw.faults({ down: true });
  const r = await gw.post('/billing/v1/sms/send', { ...sms({ message: 'queued text' }), offline_mode: true, metadata: { reference: 'off-down-1' } });
  assert.deepEqual([r.status, r.body.status], [200, 'QUEUED']);
  const ref = String(r.body.merchant_reference);
  assert.equal((await gw.ledger()).find((e) => e.ref === ref)!.final, undefined, 'not final while queued');
  const got = await waitFor(() => (rx.received.filter((x) => x.body.transactionRef === ref).length >= 2 ? rx.received : null), 8000);
  const [ipn, event] = [got.find((x) => !x.body.event)!, got.find((x) => x.body.event === 'payment.failed')!];
  assert.deepEqual([ipn.body.status, ipn.body.status_code], ['Failed', '1105']);
  assert.equal(event.body.transactionRef, ref);
  const entry = (await gw.ledger()).find((e) => e.ref === ref)!;
  const tries = (entry.attempts as string[]).map((t) => Date.parse(t));
  assert.equal(tries.length, 6, 'the first try and five retries');
  const expected = [6, 30, 90, 360, 2160];
  tries.slice(1).forEach((t, i) => {
    const gap = t - tries[i]!;
    assert.ok(gap >= expected[i]! - 3 && gap < expected[i]! + 500, `retry ${i + 1}: ${gap} ms, expected ~${expected[i]}`);
  });
  assert.equal(entry.final, 'Failed');
  assert.deepEqual(await gw.sms(), [], 'nothing was sent');
  await gw.faults({ down: false });
});

test('down, then back: the queued request runs on recovery without waiting for its next retry', async () => {
  await gw.faults({ down: true });
  const r = await gw.post('/billing/v1/airtime/create', { ...airtime({ amount: '140' }), offline_mode: true });
  assert.equal(r.body.status, 'QUEUED');
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(rx.received.length, 0);
  const up = await gw.faults({ down: false });
  assert.equal(up.body.processed, 1);
  const ipn = await waitFor(() => rx.received.find((x) => x.body.transactionRef === r.body.merchant_reference));
  assert.equal(ipn.body.status, 'Success');
});

test('a rejection is deferred to the callback: a bad signature is QUEUED, then Failed 1104 by IPN', async () => {
  const bad = { ...airtime({ amount: '150' }), signature: '0'.repeat(64), offline_mode: true };
  const r = await gw.post('/billing/v1/airtime/create', bad);
  assert.deepEqual([r.status, r.body.status], [200, 'QUEUED']);
  const ipn = await waitFor(() => rx.received.find((x) => x.body.transactionRef === r.body.merchant_reference));
  assert.deepEqual([ipn.body.status, ipn.body.status_code], ['Failed', '1104']);
  assert.equal((await gw.post('/api-link', { MerchantID: MERCHANT, signature: sign(MERCHANT) })).body.Account_Bal, 5000, 'no float used');
});

test('offline_mode does not bypass the apiKey, and lookups are not queued', async () => {
  const noKey = await gw.post('/billing/v1/airtime/create', { ...airtime(), offline_mode: true }, {});
  assert.deepEqual([noKey.status, noKey.body.status_code], [401, '1102']);
  await gw.faults({ down: true });
  const bal = await gw.post('/api-link', { MerchantID: MERCHANT, signature: sign(MERCHANT), offline_mode: true });
  assert.deepEqual([bal.status, bal.body.status_code], [503, '1105']);
  await gw.faults({ down: false });
  assert.equal((await gw.ledger()).length, 0);
});
