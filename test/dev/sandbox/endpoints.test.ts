// Every Kyanda-family endpoint accepts a correctly signed request and rejects each corruption
// with the documented platform code and HTTP status (docs/gateways.md, "Platform codes").
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../../support/service.js';
import { sandboxApi, sign, airtime, bill, checkout, mobilePayout, bankPayout, b2b, upi, sms, bulk, uniqueAmount } from './support.js';
import { MERCHANT, API_KEY } from '../../support/sandbox.js';

const svc = await startTestService({ SANDBOX_CHECKOUT_DELAY_MS: '50' }, { workers: false });
after(() => svc.close());
const gw = sandboxApi(svc.url);
beforeEach(async () => {
  await gw.reset();
});

function expectCode(r: { status: number; body: Record<string, unknown> }, code: string, http: number) {
  assert.equal(r.body.status_code, code, JSON.stringify(r.body));
  assert.equal(r.status, http);
  if (code !== '0000' && code !== '1100') assert.equal(r.body.status, 'Failed');
}

test('balance: signed MerchantID answers the float in KES', async () => {
  const r = await gw.post('/api-link', { MerchantID: MERCHANT, signature: sign(MERCHANT) });
  expectCode(r, '0000', 200);
  assert.equal(r.body.Account_Bal, 1_000_000);
  assert.equal(typeof r.body.Earnings_Bal, 'number');
});

test('apiKey missing or wrong → 1102 (HTTP 401)', async () => {
  const body = { MerchantID: MERCHANT, signature: sign(MERCHANT) };
  expectCode(await gw.post('/api-link', body, {}), '1102', 401);
  expectCode(await gw.post('/api-link', body, { apiKey: `${API_KEY}x` }), '1102', 401);
});

test('MerchantID wrong → 1101, signature wrong → 1104, missing field → 1108 (HTTP 400)', async () => {
  expectCode(await gw.post('/api-link', { MerchantID: 'other', signature: sign('other') }), '1101', 400);
  expectCode(await gw.post('/api-link', { MerchantID: MERCHANT, signature: sign('x') }), '1104', 400);
  expectCode(await gw.post('/api-link', { MerchantID: MERCHANT }), '1108', 400);
  expectCode(await gw.post('/api-link', { signature: sign(MERCHANT) }), '1108', 400);
  // A signature made with another secret, or an MD5-era digest, is a mismatch.
  expectCode(await gw.post('/api-link', { MerchantID: MERCHANT, signature: '0'.repeat(64) }), '1104', 400);
});

test('malformed JSON → 1109 (HTTP 400), oversized body → HTTP 413', async () => {
  expectCode(await gw.post('/api-link', '{"MerchantID":'), '1109', 400);
  const big = await gw.post('/api-link', { MerchantID: MERCHANT, pad: 'x'.repeat(300 * 1024) });
  assert.equal(big.status, 413);
});

test('airtime: accepted with a reference; each corruption has its 900x code', async () => {
  const ok = await gw.post('/billing/v1/airtime/create', airtime());
  expectCode(ok, '0000', 200);
  assert.match(String(ok.body.merchant_reference), /^KYA/);
  assert.equal(ok.body.status, 'Success');
  assert.ok(ok.body.message && ok.body.transactiontxt);

  const tampered = { ...airtime(), amount: '999' };
  expectCode(await gw.post('/billing/v1/airtime/create', tampered), '1104', 400);
  const { telco: _t, ...noTelco } = airtime();
  expectCode(await gw.post('/billing/v1/airtime/create', noTelco), '1108', 400);
  // Every documented phone form is accepted in every phone field; anything else is 9001.
  for (const phone of ['+254712345678', '254712345678', '0712345678', '0110000000']) {
    expectCode(await gw.post('/billing/v1/airtime/create', airtime({ phone, initiatorPhone: phone })), '0000', 200);
  }
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ phone: '071234567' })), '9001', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ phone: '712345678' })), '9001', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ initiatorPhone: '+25471234567' })), '9001', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ telco: 'ORANGE' })), '9002', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ amount: '10.50' })), '9003', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ amount: '1,500' })), '9003', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ amount: '-5' })), '9003', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ amount: '10001' })), '9004', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ amount: '4' })), '9004', 400);
  expectCode(await gw.post('/billing/v1/airtime/create', airtime({ amount: '10000' })), '0000', 200);
});

test('airtime FAIBA_B: productCode required (1108), unknown (1109), price must match (8004)', async () => {
  const path = '/billing/v1/airtime/create';
  expectCode(await gw.post(path, airtime({ telco: 'FAIBA_B', amount: '50' })), '1108', 400);
  expectCode(await gw.post(path, { ...airtime({ telco: 'FAIBA_B', amount: '50' }), productCode: 'NOPE' }), '1109', 400);
  expectCode(await gw.post(path, { ...airtime({ telco: 'FAIBA_B', amount: '51' }), productCode: 'DailyData1GB' }), '8004', 400);
  expectCode(await gw.post(path, { ...airtime({ telco: 'FAIBA_B', amount: '50' }), productCode: 'DailyData1GB' }), '0000', 200);
  // Combo bundles have no published price: any amount ≥ 1.
  expectCode(await gw.post(path, { ...airtime({ telco: 'FAIBA_B', amount: '3' }), productCode: 'SIMBA_DATA_20GB' }), '0000', 200);
});

test('pin airtime: SAFARICOM/AIRTEL/TELKOM only; answers a voucher', async () => {
  const path = '/billing/v1/pin-airtime/create';
  const ok = await gw.post(path, airtime({ telco: 'AIRTEL' }));
  expectCode(ok, '0000', 200);
  assert.match(String((ok.body.details as Record<string, unknown>).pin), /^\d{16}$/);
  expectCode(await gw.post(path, airtime({ telco: 'EQUITEL' })), '9002', 400);
  expectCode(await gw.post(path, airtime({ phone: '712345678' })), '9001', 400);
});

test('bill: billers, KPLC prepaid token, 800x codes', async () => {
  const path = '/billing/v1/bill/create';
  expectCode(await gw.post(path, bill()), '0000', 200);
  expectCode(await gw.post(path, bill({ telco: 'NAIROBI_WTR' })), '0000', 200);
  const kplc = await gw.post(path, bill({ telco: 'KPLC_PREPAID', account: '37123456789' }));
  expectCode(kplc, '0000', 200);
  assert.match(String((kplc.body.details as Record<string, unknown>).token), /^\d{20}$/);
  expectCode(await gw.post(path, bill({ telco: 'KPLC_POSTPAID' })), '0000', 200);
  expectCode(await gw.post(path, bill({ telco: 'NETFLIX' })), '8003', 400);
  expectCode(await gw.post(path, bill({ account: 'a b' })), '8001', 400);
  expectCode(await gw.post(path, bill({ initiatorPhone: '0712345678' })), '0000', 200);
  expectCode(await gw.post(path, bill({ initiatorPhone: '12345' })), '8002', 400);
  expectCode(await gw.post(path, bill({ amount: '0' })), '8004', 400);
  expectCode(await gw.post(path, bill({ amount: '150001' })), '8005', 400);
  expectCode(await gw.post(path, { ...bill(), account: '9999999999' }), '1104', 400);
});

test('checkout: Pending 1100; channel, phone, amount codes', async () => {
  const path = '/billing/v1/checkout/create';
  const ok = await gw.post(path, checkout({}, { reference: 'ord-1' }));
  expectCode(ok, '1100', 200);
  assert.equal(ok.body.status, 'Pending');
  assert.match(String(ok.body.merchant_reference), /^KYA/);
  expectCode(await gw.post(path, checkout({ channel: 'PAYPAL' })), '8003', 400);
  expectCode(await gw.post(path, checkout({ phoneNumber: '+254712345678' })), '1100', 200);
  expectCode(await gw.post(path, checkout({ phoneNumber: '07123456789' })), '8002', 400);
  expectCode(await gw.post(path, checkout({ amount: '12.5' })), '8004', 400);
  expectCode(await gw.post(path, checkout({ amount: '150001' })), '8005', 400);
});

test('mobile payout: Pending; channel/phone/amount codes; signature covers nested fields', async () => {
  const path = '/billing/v3/mobile-payout/create';
  expectCode(await gw.post(path, mobilePayout()), '1100', 200);
  expectCode(await gw.post(path, mobilePayout({ channel: 'TKASH' })), '8003', 400);
  expectCode(await gw.post(path, mobilePayout({ phone: '+254712345678' })), '1100', 200);
  expectCode(await gw.post(path, mobilePayout({ phone: '+1712345678' })), '8002', 400);
  expectCode(await gw.post(path, mobilePayout({ amount: '1.5' })), '8004', 400);
  const p = mobilePayout();
  expectCode(await gw.post(path, { ...p, source: { ...p.source, initiatorName: 'Jane Doe' } }), '1104', 400);
  expectCode(await gw.post(path, { ...p, source: { initiatorName: 'John Doe' } }), '1108', 400);
  // initiatorCountry is a country name, as every sample shows; an ISO code is refused.
  const ke = {
    MerchantID: MERCHANT,
    source: { initiatorName: 'John Doe', initiatorCountry: 'KE' },
    destination: { destinationPhone: '0712345678', amount: '150', channel: 'MPESA' },
  };
  expectCode(await gw.post(path, { ...ke, signature: sign('150', '0712345678', 'John Doe', 'KE', 'MPESA', MERCHANT) }), '1109', 400);
});

test('bank payout: bank code table (1201), account and phone formats', async () => {
  const path = '/billing/v3/bank-payout/create';
  expectCode(await gw.post(path, bankPayout()), '1100', 200);
  expectCode(await gw.post(path, bankPayout({ bankCode: '146' })), '1100', 200);
  expectCode(await gw.post(path, bankPayout({ bankCode: '107' })), '1201', 400);
  expectCode(await gw.post(path, bankPayout({ accountNumber: 'ABC' })), '8001', 400);
  expectCode(await gw.post(path, bankPayout({ amount: '150001' })), '8005', 400);
});

test('b2b: resultUrl required (1108) and http(s) (6002); channels', async () => {
  const path = '/billing/v3/b2b/create';
  expectCode(await gw.post(path, b2b()), '1100', 200);
  expectCode(await gw.post(path, b2b({ channel: 'BusinessBuyGoods' })), '1100', 200);
  const { resultUrl: _r, ...noUrl } = b2b();
  expectCode(await gw.post(path, noUrl), '1108', 400);
  expectCode(await gw.post(path, b2b({ resultUrl: 'ftp://x.example/cb' })), '6002', 400);
  expectCode(await gw.post(path, b2b({ channel: 'Paybill' })), '8003', 400);
});

test('upi: channel families 101+/201+/301+', async () => {
  const path = '/v1/transaction/transact-link';
  expectCode(await gw.post(path, upi()), '1100', 200);
  expectCode(await gw.post(path, upi({ senderChannel: '201' })), '1100', 200);
  expectCode(await gw.post(path, upi({ senderChannel: '401' })), '8003', 400);
  expectCode(await gw.post(path, { ...upi(), amount: '5' }), '1104', 400);
});

test('sms: OTP or message; phone format; recorded in /_sms as E.164', async () => {
  const path = '/billing/v1/sms/send';
  expectCode(await gw.post(path, sms({ otp: '4823' })), '0000', 200);
  expectCode(await gw.post(path, sms({ message: 'Your order is ready' })), '0000', 200);
  expectCode(await gw.post(path, sms({ phone: '+254712345678', otp: '1234' })), '0000', 200);
  expectCode(await gw.post(path, sms({ phone: '+25471234567', otp: '1234' })), '8002', 400);
  expectCode(await gw.post(path, sms({})), '1108', 400);
  expectCode(await gw.post(path, sms({ otp: '12ab' })), '1109', 400);
  const { signature: _s, ...unsigned } = sms({ otp: '5555' });
  expectCode(await gw.post(path, unsigned), '1108', 400);
  const log = await gw.sms();
  assert.equal(log.length, 3);
  assert.deepEqual(log[0]!.recipients, ['+254712345678']);
  assert.match(String(log[0]!.message), /4823/);
  assert.equal(log[1]!.message, 'Your order is ready');
  assert.deepEqual(log[2]!.recipients, ['+254712345678']);
});

test('bulk sms on the documented SMS endpoint: 1..1000 numbers in `phone`, one /_sms entry per request; 1001 → 1109', async () => {
  const path = '/billing/v1/sms/send';
  const phones = ['0712345678', '0733000111', '0110000000'];
  expectCode(await gw.post(path, bulk(phones, 'Hello all')), '0000', 200);
  const log = await gw.sms();
  assert.equal(log.length, 1);
  assert.deepEqual(log[0]!.recipients, ['+254712345678', '+254733000111', '+254110000000']);
  assert.equal(log[0]!.message, 'Hello all');
  const many = Array.from({ length: 1001 }, (_, i) => `07${String(10_000_000 + i)}`);
  expectCode(await gw.post(path, bulk(many, 'too many')), '1109', 400);
  expectCode(await gw.post(path, bulk(many.slice(0, 1000), 'just enough')), '0000', 200);
  // Each number in any documented form; one bad one rejects the request naming it.
  expectCode(await gw.post(path, bulk(['0712345678', '+254733000111', '254722000111'], 'mixed')), '0000', 200);
  const bad = await gw.post(path, bulk(['0712345678', '0733'], 'bad'));
  expectCode(bad, '8002', 400);
  assert.match(String(bad.body.message), /phone\[1\]/);
  expectCode(await gw.post(path, bulk([], 'none')), '1108', 400);
  const tampered = { ...bulk(phones, 'Hello again'), phone: [...phones, '0722000000'].join(',') };
  expectCode(await gw.post(path, tampered), '1104', 400);
  // The old undocumented path is not served.
  assert.equal((await gw.post('/billing/v1/sms/bulk', bulk(phones, 'x'))).status, 404);
});

test('callback registration: http(s) only (6002); signature of MerchantID', async () => {
  const path = '/billing/v1/callback-url/create';
  expectCode(await gw.post(path, { MerchantID: MERCHANT, callbackURL: 'https://example.com/ipn', signature: sign(MERCHANT) }), '0000', 200);
  expectCode(await gw.post(path, { MerchantID: MERCHANT, callbackURL: 'not a url', signature: sign(MERCHANT) }), '6002', 400);
  expectCode(await gw.post(path, { MerchantID: MERCHANT, callbackURL: 'https://abc.ngrok.io/ipn', signature: sign(MERCHANT) }), '6001', 400);
  expectCode(await gw.post(path, { MerchantID: MERCHANT, callbackURL: 'https://example.com/exec?x=1', signature: sign(MERCHANT) }), '6001', 400);
  expectCode(
    await gw.post(path, { MerchantID: MERCHANT, callbackURL: 'https://example.com/ipn', signature: sign('https://example.com/ipn', MERCHANT) }),
    '1104',
    400,
  );
});

test('telco check: prefix → telco; bad prefix 1109; unallocated 8003', async () => {
  const path = '/api-telco-check';
  // Signed MerchantID + prefix (a wire choice: docs/gateways.md, "Wire choices").
  const r = await gw.post(path, { MerchantID: MERCHANT, prefix: '722', signature: sign(MERCHANT, '722') });
  expectCode(r, '0000', 200);
  assert.equal(r.body.telco, 'SAFARICOM');
  const r2 = await gw.post(path, { MerchantID: MERCHANT, prefix: '110', signature: sign(MERCHANT, '110') });
  assert.equal(r2.body.telco, 'SAFARICOM'); // the changelog's 01x fix
  const r3 = await gw.post(path, { MerchantID: MERCHANT, prefix: '733', signature: sign(MERCHANT, '733') });
  assert.equal(r3.body.telco, 'AIRTEL');
  expectCode(await gw.post(path, { MerchantID: MERCHANT, prefix: '722', signature: sign('722', MERCHANT) }), '1104', 400);
  expectCode(await gw.post(path, { MerchantID: MERCHANT, prefix: '72', signature: sign(MERCHANT, '72') }), '1109', 400);
  expectCode(await gw.post(path, { MerchantID: MERCHANT, prefix: '999', signature: sign(MERCHANT, '999') }), '8003', 400);
});

test('transaction status: only by the reference the sandbox issued; verify: by it or by our reference; unknown → 7001 (HTTP 404)', async () => {
  const ok = await gw.post('/billing/v1/airtime/create', { ...airtime(), metadata: { reference: 'our-ref-1' } });
  const ref = String(ok.body.merchant_reference);
  const st = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(MERCHANT, ref) });
  expectCode(st, '0000', 200);
  const d = st.body.details as Record<string, unknown>;
  assert.equal(d.transactionRef, ref);
  assert.equal(d.status, 'Success');
  assert.equal(d.category, 'Airtime');
  assert.deepEqual(d.requestMetadata, { reference: 'our-ref-1' });
  // Our own reference is not one the gateway issued: "not found", as a real gateway answers.
  expectCode(
    await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: 'our-ref-1', signature: sign(MERCHANT, 'our-ref-1') }),
    '7001',
    404,
  );
  for (const r of [ref, 'our-ref-1']) {
    const v = await gw.get(`/transactions/${encodeURIComponent(r)}/verify`);
    expectCode(v, '0000', 200);
    assert.equal((v.body.details as Record<string, unknown>).transactionRef, ref);
  }
  expectCode(
    await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: 'KYANOPE', signature: sign(MERCHANT, 'KYANOPE') }),
    '7001',
    404,
  );
  expectCode(await gw.get('/transactions/KYANOPE/verify'), '7001', 404);
  expectCode(await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(ref, MERCHANT) }), '1104', 400);
});

test('/_ledger lists accepted money and SMS requests only, in order, with our reference', async () => {
  const a = await gw.post('/billing/v1/airtime/create', { ...airtime(), metadata: { reference: 'L1' } });
  await gw.post('/billing/v1/airtime/create', airtime({ telco: 'NOPE' }));
  const c = await gw.post('/billing/v1/checkout/create', checkout({}, { reference: 'L2' }));
  await gw.post('/api-link', { MerchantID: MERCHANT, signature: sign(MERCHANT) });
  const ledger = await gw.ledger();
  assert.deepEqual(
    ledger.map((e) => [e.ref, e.endpoint, e.status, e.reference]),
    [
      [a.body.merchant_reference, 'airtime', 'Success', 'L1'],
      [c.body.merchant_reference, 'checkout', 'Pending', 'L2'],
    ],
  );
  assert.equal((ledger[0]!.body as Record<string, unknown>).amount !== undefined, true);
  assert.ok(!Number.isNaN(Date.parse(String(ledger[0]!.at))));
  void uniqueAmount;
});
