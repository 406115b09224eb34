// IPNs: delivered asynchronously to the registered URL, signed with the webhook secret, retried
// on the scaled 1m/5m/15m/1h/6h schedule; checkout outcomes by magic phone.
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startTestService } from '../../support/service.js';
import { loadConfig } from '../../../src/config.js';
import { sandboxApi, sign, airtime, checkout, mobilePayout, b2b, sms, ipnReceiver } from './support.js';
import { MERCHANT } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';

const WEBHOOK_SECRET = 'whsec-test-0123456789';
const svc = await startTestService({ SANDBOX_CHECKOUT_DELAY_MS: '100', GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET }, { workers: false });
const gw = sandboxApi(svc.url);
const receivers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await svc.close();
  for (const r of receivers) await r.close();
});
beforeEach(async () => {
  await gw.reset();
});

async function register(url: string, g = gw) {
  const r = await g.post('/billing/v1/callback-url/create', { MerchantID: MERCHANT, callbackURL: url, signature: sign(MERCHANT) });
  assert.equal(r.body.status_code, '0000');
}

async function receiver(statusFor?: (n: number) => number) {
  const r = await ipnReceiver(statusFor);
  receivers.push(r);
  return r;
}

test('embedded default IPN time scale is 0.01 (1 min → 0.6 s)', () => {
  assert.equal(loadConfig({}).SANDBOX_IPN_TIME_SCALE, 0.01);
  assert.equal(loadConfig({ GATEWAY_URL: 'https://kemrut.com/api/v2' }).SANDBOX_IPN_TIME_SCALE, 1);
});

test('a vend IPN is delivered to the registered URL, signed over the raw body with the webhook secret', async () => {
  const rx = await receiver();
  await register(rx.url);
  const res = await gw.post('/billing/v1/airtime/create', { ...airtime({ amount: '150' }), metadata: { reference: 'ipn-1' } });
  assert.equal(res.body.status_code, '0000');
  const got = await waitFor(() => rx.received[0]);
  assert.equal(got.signature, createHmac('sha256', WEBHOOK_SECRET).update(got.raw).digest('hex'));
  assert.notEqual(got.signature, createHmac('sha256', 'sandbox-secret').update(got.raw).digest('hex'));
  const b = got.body;
  assert.equal(b.category, 'Airtime');
  assert.equal(b.status, 'Success');
  assert.equal(b.status_code, '0000');
  assert.equal(b.transactionRef, res.body.merchant_reference);
  assert.equal(b.Amount, '150');
  assert.equal(b.MerchantID, MERCHANT);
  assert.equal(b.destination, '0712345678');
  assert.deepEqual(b.requestMetadata, { reference: 'ipn-1' });
  assert.match(String(b.transactionDate), /^\d{4}-\d\d-\d\d \d\d:\d\d(AM|PM)$/);
  const log = await gw.ipn();
  assert.equal(log.length, 1);
  assert.equal(log[0]!.state, 'delivered');
  assert.deepEqual(
    log[0]!.attempts.map((a) => a.status),
    [200],
  );
});

test('SMS requests produce an SMS-category IPN', async () => {
  const rx = await receiver();
  await register(rx.url);
  await gw.post('/billing/v1/sms/send', sms({ otp: '9876' }));
  const got = await waitFor(() => rx.received[0]);
  assert.equal(got.body.category, 'SMS');
  assert.equal(got.body.status, 'Success');
});

test('a failed delivery (HTTP 500) is retried after 1 min × 0.01 ≈ 0.6 s', async () => {
  const rx = await receiver((n) => (n === 1 ? 500 : 200));
  await register(rx.url);
  await gw.post('/billing/v1/airtime/create', airtime());
  await waitFor(() => rx.received.length >= 2, 5000);
  const gap = rx.received[1]!.at - rx.received[0]!.at;
  assert.ok(gap >= 580 && gap < 1500, `retry gap ${gap} ms`);
  const log = await waitFor(async () => ((await gw.ipn())[0]?.state === 'delivered' ? gw.ipn() : null));
  assert.deepEqual(
    log[0]!.attempts.map((a) => a.status),
    [500, 200],
  );
  // The same signed body each time.
  assert.equal(rx.received[0]!.raw, rx.received[1]!.raw);
});

test('checkout succeeds after the delay; IPN echoes metadata; status moves Pending → Success', async () => {
  const rx = await receiver();
  await register(rx.url);
  const res = await gw.post('/billing/v1/checkout/create', checkout({ amount: '250' }, { reference: 'order-77', reason: 'Invoice' }));
  assert.equal(res.body.status, 'Pending');
  const ref = String(res.body.merchant_reference);
  const st1 = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(MERCHANT, ref) });
  assert.equal((st1.body.details as Record<string, unknown>).status, 'Pending');
  const got = await waitFor(() => rx.received[0]);
  assert.equal(got.body.category, 'Checkout');
  assert.equal(got.body.status, 'Success');
  assert.equal(got.body.status_code, '0000');
  assert.equal(got.body.Amount, '250');
  assert.deepEqual(got.body.requestMetadata, { reference: 'order-77', reason: 'Invoice' });
  const st2 = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(MERCHANT, ref) });
  assert.equal((st2.body.details as Record<string, unknown>).status, 'Success');
  assert.equal((await gw.ledger())[0]!.final, 'Success');
});

test('checkout from 0700000001 is cancelled by the customer', async () => {
  const rx = await receiver();
  await register(rx.url);
  await gw.post('/billing/v1/checkout/create', checkout({ phoneNumber: '0700000001' }));
  const got = await waitFor(() => rx.received[0]);
  assert.equal(got.body.status, 'Failed');
  assert.equal(got.body.status_code, '5000');
  assert.equal(got.body.message, 'Request cancelled by user');
  assert.deepEqual(got.body.details, { reason: 'CANCELLED_BY_USER' });
});

test('checkout from 0700000002 fails for insufficient funds', async () => {
  const rx = await receiver();
  await register(rx.url);
  await gw.post('/billing/v1/checkout/create', checkout({ phoneNumber: '0700000002' }));
  const got = await waitFor(() => rx.received[0]);
  assert.equal(got.body.status, 'Failed');
  assert.equal(got.body.status_code, '5000');
  assert.equal(got.body.message, 'Insufficient funds on M-PESA');
  assert.deepEqual(got.body.details, { reason: 'INSUFFICIENT_FUNDS' });
});

test('magic phones are configuration', async () => {
  const other = await startTestService({ SANDBOX_CHECKOUT_DELAY_MS: '20', SANDBOX_CANCEL_PHONE: '0799999999' }, { workers: false });
  try {
    const g = sandboxApi(other.url);
    const rx = await receiver();
    await register(rx.url, g);
    await g.post('/billing/v1/checkout/create', checkout({ phoneNumber: '0799999999' }));
    await g.post('/billing/v1/checkout/create', checkout({ phoneNumber: '0700000001' }));
    await waitFor(() => rx.received.length >= 2);
    const byPhone = new Map(rx.received.map((r) => [r.body.source, r.body.status]));
    assert.equal(byPhone.get('0799999999'), 'Failed');
    assert.equal(byPhone.get('0700000001'), 'Success');
  } finally {
    await other.close();
  }
});

test('mobile payout is Pending then Success by IPN; B2B answers to its resultUrl', async () => {
  const rx = await receiver();
  const rx2 = await receiver();
  await register(rx.url);
  await gw.post('/billing/v3/mobile-payout/create', mobilePayout({ amount: '1500' }));
  await gw.post('/billing/v3/b2b/create', b2b({ resultUrl: rx2.url }));
  const p = await waitFor(() => rx.received[0]);
  assert.equal(p.body.category, 'MobilePayout');
  assert.equal(p.body.status, 'Success');
  assert.equal(p.body.destination, '0712345678');
  const b = await waitFor(() => rx2.received[0]);
  assert.equal(b.body.category, 'B2B');
  assert.equal(rx.received.filter((r) => r.body.category === 'B2B').length, 0);
});

test('full schedule: 5 retries at 1m, 5m, 15m, 1h, 6h × scale on network errors, then given up', async () => {
  const fast = await startTestService({ SANDBOX_IPN_TIME_SCALE: '0.0001' }, { workers: false });
  try {
    const g = sandboxApi(fast.url);
    const dead = await ipnReceiver();
    const deadUrl = dead.url;
    await dead.close(); // nothing listens there any more: connection refused
    await register(deadUrl, g);
    await g.post('/billing/v1/airtime/create', airtime());
    const log = await waitFor(async () => {
      const l = await g.ipn();
      return l[0]?.state === 'failed' ? l : null;
    }, 8000);
    const attempts = log[0]!.attempts;
    assert.equal(attempts.length, 6);
    assert.ok(attempts.every((a) => a.status === null));
    const expected = [6, 30, 90, 360, 2160];
    attempts.slice(1).forEach((a, i) => {
      const gap = Date.parse(a.at) - Date.parse(attempts[i]!.at);
      assert.ok(gap >= expected[i]! - 3 && gap < expected[i]! + 500, `gap ${i}: ${gap} ms, expected ~${expected[i]}`);
    });
  } finally {
    await fast.close();
  }
});
