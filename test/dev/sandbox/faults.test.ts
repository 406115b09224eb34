// POST /sandbox/_faults (latency, failNext with path filter, down + offline_mode) and _reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, airtime, checkout, sms, sandboxWithReceiver } from './support.js';
import { MERCHANT } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';

const { svc, gw, rx } = await sandboxWithReceiver({ SANDBOX_FLOAT_KES: '1000', SANDBOX_CHECKOUT_DELAY_MS: '50' });

const balanceBody = { MerchantID: MERCHANT, signature: sign(MERCHANT) };
async function balance(): Promise<number> {
  return (await gw.post('/api-link', balanceBody)).body.Account_Bal as number;
}

test('latencyMs delays every API answer, and 0 removes it', async () => {
  assert.equal((await gw.faults({ latencyMs: 300 })).status, 200);
  const slow = await gw.post('/api-link', balanceBody);
  assert.equal(slow.status, 200);
  assert.ok(slow.ms >= 290, `took ${slow.ms} ms`);
  await gw.faults({ latencyMs: 0 });
  const quick = await gw.post('/api-link', balanceBody);
  assert.ok(quick.ms < 250, `took ${quick.ms} ms`);
});

test('failNext answers the next `count` requests with a platform code and its HTTP status', async () => {
  await gw.faults({ failNext: { code: '1105', count: 2 } });
  for (let i = 0; i < 2; i++) {
    const r = await gw.post('/api-link', balanceBody);
    assert.equal(r.status, 503);
    assert.equal(r.body.status_code, '1105');
    assert.equal(r.body.status, 'Failed');
  }
  assert.equal((await gw.post('/api-link', balanceBody)).status, 200);
  await gw.faults({ failNext: { code: '1107', count: 1 } });
  const f = await gw.post('/billing/v1/airtime/create', airtime());
  assert.deepEqual([f.status, f.body.status_code], [400, '1107']);
  assert.equal((await gw.ledger()).length, 0);
});

test('failNext "429" answers HTTP 429 with Retry-After; "500" answers HTTP 500', async () => {
  await gw.faults({ failNext: { code: '429', count: 1 } });
  const r = await gw.post('/api-link', balanceBody);
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  assert.ok(r.headers.get('x-ratelimit-limit'));
  await gw.faults({ failNext: { code: '500', count: 1 } });
  assert.equal((await gw.post('/api-link', balanceBody)).status, 500);
  assert.equal((await gw.post('/api-link', balanceBody)).status, 200);
});

test('failNext with a path only hits matching paths', async () => {
  await gw.faults({ failNext: { code: '1106', count: 1, path: 'airtime' } });
  assert.equal((await gw.post('/api-link', balanceBody)).status, 200);
  assert.equal((await gw.post('/billing/v1/sms/send', sms({ otp: '1234' }))).status, 200);
  const hit = await gw.post('/billing/v1/airtime/create', airtime());
  assert.deepEqual([hit.status, hit.body.status_code], [503, '1106']);
  assert.equal((await gw.post('/billing/v1/airtime/create', airtime())).body.status_code, '0000');
});

test('bad _faults bodies are refused with 400', async () => {
  assert.equal((await gw.faults({ latencyMs: -1 })).status, 400);
  assert.equal((await gw.faults({ down: 'yes' })).status, 400);
  assert.equal((await gw.faults({ failNext: { code: '0000', count: 1 } })).status, 400);
  assert.equal((await gw.faults([1])).status, 400);
});

test('down: every call answers 1105 (HTTP 503) except offline_mode ones, which are QUEUED and run on recovery', async () => {
  await gw.faults({ down: true });
  const b = await gw.post('/api-link', balanceBody);
  assert.deepEqual([b.status, b.body.status_code], [503, '1105']);
  const a = await gw.post('/billing/v1/airtime/create', airtime({ amount: '300' }));
  assert.deepEqual([a.status, a.body.status_code], [503, '1105']);

  const q = await gw.post('/billing/v1/airtime/create', { ...airtime({ amount: '200' }), offline_mode: true, metadata: { reference: 'off-1' } });
  assert.equal(q.status, 200);
  assert.equal(q.body.status, 'QUEUED');
  assert.equal(q.body.status_code, '1100');
  const qref = String(q.body.merchant_reference);
  const qc = await gw.post('/billing/v1/checkout/create', { ...checkout({}, { reference: 'off-2' }), offline_mode: true });
  assert.equal(qc.body.status, 'QUEUED');
  // Rejections are deferred to the callback in offline mode: a bad telco is QUEUED too.
  const bad = await gw.post('/billing/v1/airtime/create', { ...airtime({ telco: 'X' }), offline_mode: true });
  assert.deepEqual([bad.status, bad.body.status], [200, 'QUEUED']);
  const ledger = await gw.ledger();
  assert.deepEqual(
    ledger.map((e) => e.status),
    ['QUEUED', 'QUEUED', 'QUEUED'],
  );
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(rx.received.length, 0, 'nothing processed while down');

  const up = await gw.faults({ down: false });
  assert.equal(up.body.processed, 3);
  assert.equal(await balance(), 800);
  await waitFor(() => rx.received.length >= 3);
  const airtimeIpn = rx.received.find((r) => r.body.transactionRef === qref)!;
  assert.equal(airtimeIpn.body.status, 'Success');
  assert.deepEqual(airtimeIpn.body.requestMetadata, { reference: 'off-1' });
  const co = rx.received.find((r) => r.body.category === 'Checkout')!;
  assert.equal(co.body.status, 'Success');
  const rejected = rx.received.find((r) => r.body.transactionRef === bad.body.merchant_reference)!;
  assert.deepEqual([rejected.body.status, rejected.body.status_code], ['Failed', '9002']);
  const st = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: qref, signature: sign(MERCHANT, qref) });
  assert.equal((st.body.details as Record<string, unknown>).status, 'Success');
});

test('offline: a queued vend the float cannot cover fails by IPN with 1107 on recovery', async () => {
  await gw.faults({ down: true });
  await gw.post('/billing/v1/bill/create', { ...{ MerchantID: MERCHANT }, ...billBody('1500'), offline_mode: true });
  await gw.faults({ down: false });
  const got = await waitFor(() => rx.received[0]);
  assert.equal(got.body.status, 'Failed');
  assert.equal(got.body.status_code, '1107');
  assert.equal(await balance(), 1000);
});

function billBody(amount: string) {
  const b = { MerchantID: MERCHANT, account: '0123456789', amount, telco: 'GOTV', initiatorPhone: '+254712345678' };
  return { ...b, signature: sign(b.amount, b.account, b.telco, b.initiatorPhone, b.MerchantID) };
}

test('_reset: float, ledger, SMS, IPN log, faults and the registered callback back to clean', async () => {
  await gw.post('/billing/v1/airtime/create', airtime({ amount: '400' }));
  await gw.post('/billing/v1/sms/send', sms({ otp: '4321' }));
  await waitFor(() => rx.received.length >= 2);
  await gw.faults({ latencyMs: 50, failNext: { code: '1105', count: 5, path: 'bill' } });
  assert.equal(await balance(), 600);
  const r = await gw.reset();
  assert.equal(r.status, 200);
  assert.equal(await balance(), 1000);
  assert.deepEqual(await gw.ledger(), []);
  assert.deepEqual(await gw.sms(), []);
  assert.deepEqual(await gw.ipn(), []);
  const f = await gw.get('/_faults');
  assert.equal(f.body.latencyMs, 0);
  assert.deepEqual(f.body.failNext, []);
  assert.equal(f.body.down, false);
  // The registered callback is forgotten: the next IPN goes to the default, not our receiver.
  const before = rx.received.length;
  await gw.post('/billing/v1/bill/create', billBody('10'));
  await waitFor(async () => (await gw.ipn()).length === 1);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(rx.received.length, before);
  assert.match((await gw.ipn())[0]!.url, /\/callbacks\/kyanda$/);
});

test('the PAG imitation is mounted at /sandbox/pag and shares latency/failNext/down; other routes are untouched', async () => {
  const pag = () => fetch(`${svc.url}/sandbox/pag/anyid/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const up = await pag();
  assert.notEqual(up.status, 404);
  assert.notEqual(up.status, 503);
  await gw.faults({ down: true });
  const down = await pag();
  assert.equal(down.status, 503);
  assert.equal(((await down.json()) as Record<string, unknown>).status_code, '1105');
  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${svc.url}/sandbox/_ledger`)).status, 200);
  await gw.faults({ down: false, failNext: { code: '500', count: 1, path: '/pag/' } });
  assert.equal((await gw.post('/api-link', balanceBody)).status, 200);
  assert.equal((await pag()).status, 500);
  assert.notEqual((await pag()).status, 500);
});

test("faults touch only the sandbox: the service's own routes keep answering", async () => {
  await gw.faults({ down: true, latencyMs: 1500, failNext: { code: '1105', count: 5 } });
  try {
    const started = Date.now();
    const health = await fetch(`${svc.url}/healthz`);
    assert.equal(health.status, 200);
    const ussd = await fetch(`${svc.url}/ussd`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sessionId: 'fault-scope-1', serviceCode: '*860*30#', phoneNumber: '+254712345678', text: '' }),
    });
    assert.equal(ussd.status, 200);
    assert.match(await ussd.text(), /^CON /);
    assert.ok(Date.now() - started < 1000, `own routes were slowed: ${Date.now() - started} ms`);
  } finally {
    await gw.faults({ down: false, latencyMs: 0, failNext: { code: '1105', count: 0 } });
  }
});
