// Float, duplicate transmission and rate limiting.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../../support/service.js';
import { sandboxApi, sign, airtime, bill, checkout, mobilePayout, sms } from './support.js';
import { MERCHANT, API_KEY } from '../../support/sandbox.js';

const svc = await startTestService({ SANDBOX_FLOAT_KES: '1000', SANDBOX_DUPLICATE_WINDOW_MS: '400', SANDBOX_CHECKOUT_DELAY_MS: '20' }, { workers: false });
after(() => svc.close());
const gw = sandboxApi(svc.url);

async function balance(g = gw): Promise<number> {
  const r = await g.post('/api-link', { MerchantID: MERCHANT, signature: sign(MERCHANT) });
  return r.body.Account_Bal as number;
}

test('vends reduce the float; checkout and SMS do not; exhausted float → 1107', async () => {
  await gw.reset();
  assert.equal(await balance(), 1000);
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime({ amount: '300' }))).body.status_code, '0000');
  assert.equal(await balance(), 700);
  assert.equal((await gw.post('/billing/v1/bill/create', bill({ amount: '400' }))).body.status_code, '0000');
  assert.equal(await balance(), 300);
  assert.equal((await gw.post('/billing/v1/checkout/create', checkout({ amount: '5000' }))).body.status_code, '1100');
  assert.equal((await gw.post('/billing/v1/sms/send', sms({ otp: '1234' }))).body.status_code, '0000');
  assert.equal(await balance(), 300);
  assert.equal((await gw.post('/billing/v3/mobile-payout/create', mobilePayout({ amount: '200' }))).body.status_code, '1100');
  assert.equal(await balance(), 100);
  const over = await gw.post('/billing/v1/airtime/create', airtime({ amount: '101' }));
  assert.equal(over.status, 400);
  assert.equal(over.body.status_code, '1107');
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime({ amount: '100' }))).body.status_code, '0000');
  assert.equal(await balance(), 0);
  // A rejected vend is not in the ledger.
  assert.equal((await gw.ledger()).length, 6);
  await gw.reset();
  assert.equal(await balance(), 1000);
});

test('the same signed values within the window → 9005 (airtime) / 8006 (bill, checkout, SMS); allowed again after it', async () => {
  await gw.reset();
  const a = airtime({ amount: '10' });
  assert.equal((await gw.post('/billing/v1/airtime/create', a)).body.status_code, '0000');
  const dup = await gw.post('/billing/v1/airtime/create', a);
  assert.equal(dup.body.status_code, '9005');
  assert.equal(dup.status, 400);
  const b = bill({ amount: '20' });
  assert.equal((await gw.post('/billing/v1/bill/create', b)).body.status_code, '0000');
  assert.equal((await gw.post('/billing/v1/bill/create', b)).body.status_code, '8006');
  const c = checkout({ amount: '30' });
  assert.equal((await gw.post('/billing/v1/checkout/create', c)).body.status_code, '1100');
  assert.equal((await gw.post('/billing/v1/checkout/create', c)).body.status_code, '8006');
  // Two different texts to one phone are not duplicates; the same text is.
  assert.equal((await gw.post('/billing/v1/sms/send', sms({ message: 'one' }))).body.status_code, '0000');
  assert.equal((await gw.post('/billing/v1/sms/send', sms({ message: 'two' }))).body.status_code, '0000');
  assert.equal((await gw.post('/billing/v1/sms/send', sms({ message: 'two' }))).body.status_code, '8006');
  // Balance polling is never a duplicate.
  await balance();
  await balance();
  await new Promise((r) => setTimeout(r, 450));
  assert.equal((await gw.post('/billing/v1/airtime/create', a)).body.status_code, '0000');
  assert.equal((await gw.post('/billing/v1/bill/create', b)).body.status_code, '0000');
});

test('a rejected request does not open a duplicate window', async () => {
  await gw.reset();
  const big = airtime({ amount: '5000' });
  await gw.post('/billing/v1/airtime/create', airtime({ amount: '700' }));
  assert.equal((await gw.post('/billing/v1/airtime/create', big)).body.status_code, '1107');
  await gw.reset(); // float back to 1000
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime({ amount: '900' }))).body.status_code, '0000');
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime({ amount: '100' }))).body.status_code, '0000');
  assert.equal((await gw.post('/billing/v1/airtime/create', big)).body.status_code, '1107');
});

test('rate limit: X-RateLimit-* on every response, 429 + Retry-After past the limit, per apiKey', async () => {
  const limited = await startTestService({ SANDBOX_RATE_LIMIT_PER_MIN: '3' }, { workers: false });
  try {
    const g = sandboxApi(limited.url);
    const body = { MerchantID: MERCHANT, signature: sign(MERCHANT) };
    const nowS = Date.now() / 1000;
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await g.post('/api-link', body);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ratelimit-limit'), '3');
      remaining.push(r.headers.get('x-ratelimit-remaining') ?? '');
      const reset = Number(r.headers.get('x-ratelimit-reset'));
      // The window opens at the first request (a little after nowS) and Reset rounds up a second.
      assert.ok(reset >= nowS && reset <= nowS + 62, `reset ${reset} vs now ${nowS}`);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const over = await g.post('/api-link', body);
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('x-ratelimit-remaining'), '0');
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `retry-after ${retry}`);
    // Errors carry the headers too, and another key has its own window.
    const other = await g.post('/api-link', body, { apiKey: `${API_KEY}-other` });
    assert.equal(other.status, 401);
    assert.equal(other.headers.get('x-ratelimit-remaining'), '2');
    await g.reset();
    assert.equal((await g.post('/api-link', body)).status, 200);
  } finally {
    await limited.close();
  }
});

test('POST /_float sets the float; offline_mode while up is QUEUED and processed at once', async () => {
  await gw.reset();
  assert.equal((await gw.post('/_float', { kes: 50 })).status, 200);
  assert.equal(await balance(), 50);
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime({ amount: '60' }))).body.status_code, '1107');
  const r = await gw.post('/billing/v1/airtime/create', { ...airtime({ amount: '50' }), offline_mode: true });
  assert.equal(r.body.status, 'QUEUED');
  // Taken at once, processed right away (docs/gateways.md, "Offline mode").
  for (let i = 0; i < 100 && (await balance()) !== 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(await balance(), 0);
  const entry = (await gw.ledger()).find((e) => e.ref === r.body.merchant_reference)!;
  assert.deepEqual([entry.status, entry.final], ['QUEUED', 'Success']);
  assert.equal((await gw.post('/_float', { kes: -1 })).status, 400);
  assert.equal((await gw.post('/_float', { kes: '5' })).status, 400);
});
