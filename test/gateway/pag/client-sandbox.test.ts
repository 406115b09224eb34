// PAG client ↔ PAG sandbox over real HTTP: the seed's simulator, idempotency, signatures,
// the completing provider and its callbacks, the universal flow and the OTP step.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRig, startReceiver, uid, MERCHANT, SECRET, type Rig } from './support.js';
import { closeSharedRedis } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { signBody } from '../../../src/gateway/pag/signature.js';
import { pagNeedsConfirmation, pagNeedsData } from '../../../src/gateway/pag/replies.js';
import type { GatewayResult } from '../../../src/gateway/types.js';

let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig.close();
  await closeSharedRedis();
});

const raw = (r: GatewayResult) => r.raw as Record<string, any>;

async function post(path: string, body: Record<string, unknown>): Promise<{ status: number; json: any }> {
  const res = await fetch(`${rig.url}/sandbox/pag/anypublicid/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

test('checkout on the simulator (14): in progress, -8888 "Good", the wire fields as the seed wants', async () => {
  const ref = uid('chk');
  const r = await rig.gateway.checkout({ phone: '0712345678', amountMinor: 10000, channel: 'MPESA' }, { reference: ref });
  assert.equal(r.kind, 'pending');
  assert.equal(r.reference, ref);
  assert.match(r.kind === 'pending' ? r.gatewayRef : '', /^\d{12}$/);
  assert.equal(raw(r).status, 1);
  assert.deepEqual(raw(r).provider_result, { code: -8888, message: 'Good' });
  assert.deepEqual(raw(r).result, { code: 0, message: 'OK' });
  assert.equal(raw(r).confirm_type, 0);
  const entry = rig.ledger.find((e) => e.reference === ref)!;
  assert.equal(entry.endpoint, 'pag/payment_c2b');
  assert.equal(entry.status, '1');
  assert.equal(entry.ref, raw(r).transaction_id);
  const body = entry.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), [
    'merchant_id',
    'customer_id',
    'customer_user_id',
    'order_id',
    'amount',
    'currency',
    'country',
    'callback_url',
    'provider_id',
    'signature',
  ]);
  assert.equal(body.merchant_id, MERCHANT);
  assert.equal(body.customer_id, '254712345678');
  assert.equal(body.amount, '100.00');
  assert.equal(body.currency, 'KES');
  assert.equal(body.provider_id, 14);
  assert.equal(body.order_id, ref);
  assert.equal(body.callback_url, `${rig.config.PUBLIC_URL}/callbacks/pag`);
  assert.match(String(body.signature), /^[0-9a-f]{128}$/);
  // the simulator never completes
  const u = await rig.gateway.transactionStatus(ref);
  assert.equal(u?.status, 'pending');
  assert.equal(u?.code, '1');
  assert.equal(u?.reference, ref);
});

test('the same order_id again gets the identical answer and the operation is not repeated', async () => {
  const ref = uid('idem');
  const a = await rig.gateway.checkout({ phone: '254712345678', amountMinor: 5050, channel: 'MPESA' }, { reference: ref });
  // a different amount under the same order_id changes nothing: the first request stands
  const b = await rig.gateway.checkout({ phone: '254712345678', amountMinor: 9999, channel: 'MPESA' }, { reference: ref });
  assert.deepEqual(raw(b), raw(a));
  assert.equal(rig.ledger.filter((e) => e.reference === ref).length, 1);
  assert.equal((rig.ledger.find((e) => e.reference === ref)!.body as { amount: string }).amount, '50.50');
});

test('a wrong secret, a tampered body, a wrong merchant and missing fields are rejected', async () => {
  const bad = rig.client({ GATEWAY_SECRET: 'not-the-secret' });
  const r = await bad.checkout({ phone: '0712345678', amountMinor: 100, channel: 'MPESA' }, { reference: uid('sig') });
  assert.equal(r.kind, 'failed');
  assert.equal(r.kind === 'failed' && r.error.code, 'PAG_RESULT_1');
  assert.equal(r.kind === 'failed' && r.error.httpStatus, 401);
  assert.equal(r.kind === 'failed' && r.error.userMessage.en, 'Payment failed. Please try again later.');

  const good = signBody(
    { merchant_id: MERCHANT, customer_id: '254712345678', customer_user_id: 'u1', order_id: uid('raw'), amount: '10.00', currency: 'KES', provider_id: 14 },
    SECRET,
  );
  const tampered = await post('payment_c2b', { ...good, amount: '99.00' });
  assert.equal(tampered.status, 401);
  assert.equal(tampered.json.result.code, 1);
  assert.match(tampered.json.result.message, /signature/);
  assert.equal(tampered.json.order_id, good.order_id);

  const merchant = await post('payment_c2b', signBody({ ...good, merchant_id: 'someone-else' }, SECRET));
  assert.equal(merchant.status, 401);
  assert.equal(merchant.json.result.code, 2);

  const { customer_user_id: _drop, ...noUser } = good;
  const missing = await post('payment_c2b', signBody(noUser, SECRET));
  assert.equal(missing.status, 400);
  assert.equal(missing.json.result.code, 3);
  assert.match(missing.json.result.message, /customer_user_id is required/);

  const badAmount = await post('payment_c2b', signBody({ ...good, amount: '10.5' }, SECRET));
  assert.equal(badAmount.status, 400);
  assert.match(badAmount.json.result.message, /amount/);

  const provider = await post('payment_c2b', signBody({ ...good, provider_id: 2087 }, SECRET));
  assert.equal(provider.status, 400);
  assert.equal(provider.json.result.code, 5);

  const notJson = await fetch(`${rig.url}/sandbox/pag/x/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
  assert.equal(notJson.status, 400);
  // none of the rejected requests reached the ledger
  assert.equal(
    rig.ledger.some((e) => e.reference === good.order_id),
    false,
  );
  // the untouched request is accepted
  const ok = await post('payment_c2b', good);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.status, 1);
});

test('status of an unknown order is null', async () => {
  assert.equal(await rig.gateway.transactionStatus(uid('none')), null);
  assert.equal(await rig.gateway.verifyTransaction(uid('none')), null);
});

test('provider 40 completes: success, customer cancel (4) and insufficient funds (3)', async () => {
  const gw = rig.client({ PAG_PROVIDER_ID: '40' });
  const cases: Array<[string, string, string]> = [
    ['0712345678', 'succeeded', '2'],
    ['0700000001', 'cancelled', '4'],
    ['0700000002', 'failed', '3'],
  ];
  for (const [phone, status, code] of cases) {
    const ref = uid('p40');
    const r = await gw.checkout({ phone, amountMinor: 2500, channel: 'MPESA' }, { reference: ref });
    assert.equal(r.kind, 'pending', phone);
    const u = await waitFor(
      async () => {
        const x = await gw.transactionStatus(ref);
        return x?.status !== 'pending' ? x : null;
      },
      { what: `final status for ${phone}` },
    );
    assert.equal(u.status, status, phone);
    assert.equal(u.code, code, phone);
  }
  // a payout (b2c) completes the same way and is recorded as such
  const ref = uid('b2c');
  const p = await gw.mobilePayout(
    { phone: '+254712345678', amountMinor: 12345, channel: 'MPESA', initiatorName: 'x', initiatorCountry: 'KE' },
    { reference: ref },
  );
  assert.equal(p.kind, 'pending');
  assert.equal(rig.ledger.find((e) => e.reference === ref)?.endpoint, 'pag/payment_b2c');
  const done = await waitFor(
    async () => {
      const x = await gw.transactionStatus(ref);
      return x?.status === 'succeeded' ? x : null;
    },
    { what: 'payout success' },
  );
  assert.equal(done.details.transaction_ref, `SBX.${done.gatewayRef}`);
});

test('provider 40 POSTs a signed callback that parseCallback verifies; a forged one is refused', async () => {
  const receiver = await startReceiver([500]); // the first delivery fails: the sandbox retries
  try {
    const gw = rig.client({ PAG_PROVIDER_ID: '40', PUBLIC_URL: receiver.url });
    const ref = uid('cb');
    const r = await gw.checkout({ phone: '0712345678', amountMinor: 100000, channel: 'MPESA' }, { reference: ref });
    assert.equal(r.kind, 'pending');
    await waitFor(() => receiver.received.length >= 2, { what: 'callback retry' });
    const [first, second] = receiver.received;
    assert.equal(
      first!.raw,
      second!.raw
        .replace(/"service_date_time":"[^"]*"/, first!.raw.match(/"service_date_time":"[^"]*"/)![0])
        .replace(/"signature":"[0-9a-f]+"/, first!.raw.match(/"signature":"[0-9a-f]+"/)![0]),
    );
    const parsed = gw.parseCallback(second!.headers as Record<string, string>, second!.raw);
    assert.ok(parsed.ok && parsed.signed, 'signature verifies');
    const u = parsed.update;
    assert.equal(u.gateway, 'pag');
    assert.equal(u.reference, ref);
    assert.equal(u.status, 'succeeded');
    assert.equal(u.code, '2');
    assert.equal(u.amountMinor, 100000);
    assert.equal(u.gatewayRef, raw(r).transaction_id);
    assert.equal((JSON.parse(second!.raw) as { type: number }).type, 17);
    // forged: amount changed, signature kept
    assert.deepEqual(gw.parseCallback({}, second!.raw.replace('"1000.00"', '"1.00"')), { ok: false, why: 'bad_signature' });
    // a client with another secret refuses the genuine one
    assert.deepEqual(rig.client({ GATEWAY_SECRET: 'other', PUBLIC_URL: receiver.url }).parseCallback({}, second!.raw), { ok: false, why: 'bad_signature' });
    assert.deepEqual(gw.parseCallback({}, 'not json'), { ok: false, why: 'unreadable' });
  } finally {
    await receiver.close();
  }
});

test('universal flow: INIT → 8, STATUS → action.fields/errors arrays, STATUS with extra → 1 → 2', async () => {
  const gw = rig.client({ PAG_PROVIDER_ID: '40', PAG_CURRENCY: 'TZS' });
  const ref = uid('uf');
  const r = await gw.paymentC2b({ phone: '+255754123456', amountMinor: 100 }, { reference: ref });
  assert.equal(r.kind, 'accepted');
  assert.ok(pagNeedsData(r));
  assert.equal(raw(r).status, 8);
  assert.equal(raw(r).result.code, 0); // code 0 with status 8 is not success
  assert.equal(raw(r).action, undefined); // no action block in the INIT answer
  const entry = rig.ledger.find((e) => e.reference === ref)!;
  assert.equal(entry.status, '8');
  assert.equal((entry.body as { customer_id: string; currency: string }).customer_id, '255754123456');

  const need = await gw.requiredFields(ref);
  assert.equal(need.status, 8);
  assert.deepEqual(Object.keys(need.fields), ['customer_email']);
  assert.ok(Array.isArray(need.errors.customer_email));
  assert.equal(need.firstErrors.customer_email, 'The customer email field is required.');

  const wrong = await gw.submitExtra(ref, { customer_email: 'not-an-email' });
  assert.equal(wrong.kind, 'accepted');
  assert.ok(pagNeedsData(wrong));
  assert.equal(raw(wrong).action.errors.customer_email[0], 'The customer email must be a valid email address.');

  const ok = await gw.submitExtra(ref, { customer_email: 'amina@example.com' });
  assert.equal(ok.kind, 'pending');
  assert.equal(raw(ok).status, 1);
  const done = await waitFor(
    async () => {
      const x = await gw.transactionStatus(ref);
      return x?.status === 'succeeded' ? x : null;
    },
    { what: 'universal flow success' },
  );
  assert.equal(done.code, '2');
});

test('OTP flow: INIT with extra.phone → 1 "OTP sent"; wrong OTP stays 1 with a message; right OTP → 2', async () => {
  const ref = uid('otp');
  const r = await rig.gateway.paymentC2b({ phone: '0712345678', amountMinor: 50000, extra: { phone: '254712345678' } }, { reference: ref });
  assert.equal(r.kind, 'pending');
  assert.equal(raw(r).provider_result.message, 'OTP sent');
  const bad = await rig.gateway.submitOtp(ref, '000000');
  assert.equal(bad.kind, 'pending');
  assert.equal(raw(bad).status, 1);
  assert.equal(raw(bad).provider_result.message, 'Invalid OTP');
  assert.equal(raw(bad).action.errors.otp[0], 'The OTP is invalid.');
  const good = await rig.gateway.submitOtp(ref, rig.config.PAG_SANDBOX_OTP);
  assert.equal(good.kind, 'succeeded');
  assert.equal(raw(good).status, 2);
  assert.equal((await rig.gateway.transactionStatus(ref))?.status, 'succeeded');

  // three wrong codes fail the operation
  const ref2 = uid('otp');
  await rig.gateway.paymentC2b({ phone: '0712345678', amountMinor: 50000, extra: { phone: '254712345678' } }, { reference: ref2 });
  await rig.gateway.submitOtp(ref2, '111111');
  await rig.gateway.submitOtp(ref2, '222222');
  const third = await rig.gateway.submitOtp(ref2, '333333');
  assert.equal(third.kind, 'failed');
  assert.equal(third.kind === 'failed' && third.error.code, 'PAG_FAILED');
});

test('endpoints this gateway lacks: failed UNSUPPORTED, or a throw where no result exists', async () => {
  const o = { reference: uid('u') };
  for (const r of [
    await rig.gateway.airtime({ phone: '0712345678', amountMinor: 100, telco: 'SAFARICOM', initiatorPhone: '0712345678' }, o),
    await rig.gateway.payBill({ biller: 'DSTV', account: '1', amountMinor: 100, initiatorPhone: '0712345678' }, o),
    await rig.gateway.sendSms({ phone: '0712345678', message: 'hi' }, o),
    await rig.gateway.bulkSms({ phones: ['0712345678'], message: 'hi' }, o),
    await rig.gateway.bankPayout(
      { name: 'a', accountNumber: '1', phone: '0712345678', bankCode: '01', amountMinor: 100, initiatorName: 'a', initiatorCountry: 'KE' },
      o,
    ),
    await rig.gateway.b2b({ channel: 'BusinessPayBill', shortCode: '1', identifier: '1', amountMinor: 100, remarks: 'r', resultUrl: 'http://x' }, o),
    await rig.gateway.registerCallback('http://x'),
  ]) {
    assert.equal(r.kind, 'failed');
    assert.equal(r.kind === 'failed' && r.error.code, 'UNSUPPORTED');
    assert.equal(r.kind === 'failed' && r.error.userMessage.sw, 'Huduma hii haipatikani.');
  }
  await assert.rejects(rig.gateway.balance(), { code: 'UNSUPPORTED' });
  await assert.rejects(rig.gateway.telcoCheck('0712'), { code: 'UNSUPPORTED' });
  assert.equal(rig.gateway.upiTransfer, undefined);
});

test('bad phone and bad amount fail before anything is sent', async () => {
  const before = rig.ledger.length;
  const p = await rig.gateway.checkout({ phone: '12', amountMinor: 100, channel: 'MPESA' }, { reference: uid('bp') });
  assert.equal(p.kind === 'failed' && p.error.code, 'PAG_BAD_PHONE');
  const a = await rig.gateway.checkout({ phone: '0712345678', amountMinor: 0, channel: 'MPESA' }, { reference: uid('ba') });
  assert.equal(a.kind === 'failed' && a.error.code, 'PAG_BAD_AMOUNT');
  const f = await rig.gateway.checkout({ phone: '0712345678', amountMinor: 10.5, channel: 'MPESA' }, { reference: uid('ba') });
  assert.equal(f.kind === 'failed' && f.error.code, 'PAG_BAD_AMOUNT');
  assert.equal(rig.ledger.length, before);
});

test('a reference with characters order_id forbids is mapped, deterministically, and still idempotent', async () => {
  const ref = `order #42/step 1 ${uid('m')}`;
  const a = await rig.gateway.checkout({ phone: '0712345678', amountMinor: 100, channel: 'MPESA' }, { reference: ref });
  const b = await rig.gateway.checkout({ phone: '0712345678', amountMinor: 100, channel: 'MPESA' }, { reference: ref });
  assert.equal(a.reference, ref);
  assert.match(raw(a).order_id, /^order__42_step_1_m-[a-f0-9-]+\.h[0-9a-f]{32}$/);
  assert.deepEqual(raw(b), raw(a));
  assert.equal((await rig.gateway.transactionStatus(ref))?.reference, raw(a).order_id);
});

test('after reset the sandbox forgets orders', async () => {
  const ref = uid('rs');
  await rig.gateway.checkout({ phone: '0712345678', amountMinor: 100, channel: 'MPESA' }, { reference: ref });
  rig.sandbox.reset();
  assert.equal(await rig.gateway.transactionStatus(ref), null);
});

test('payout with confirm_type 1: waits for a second payment_b2c carrying the confirmation, then completes', async () => {
  const gw = rig.client({ PAG_PROVIDER_ID: '40' });
  const ref = uid('cf');
  const req = { phone: '0700000003', amountMinor: 30000 };
  const r = await gw.paymentB2c(req, { reference: ref });
  assert.equal(r.kind, 'accepted');
  assert.ok(pagNeedsConfirmation(r));
  assert.equal(raw(r).confirm_type, 1);
  // a plain repeat is idempotent: same answer, nothing confirmed
  assert.deepEqual(raw(await gw.paymentB2c(req, { reference: ref })), raw(r));
  const wrong = await gw.confirmPayout(req, { confirmation_code: '000000' }, { reference: ref });
  assert.equal(wrong.kind, 'accepted');
  assert.equal(raw(wrong).provider_result.message, 'Invalid confirmation code');
  const ok = await gw.confirmPayout(req, { confirmation_code: rig.config.PAG_SANDBOX_OTP }, { reference: ref });
  assert.equal(ok.kind, 'pending');
  assert.equal(raw(ok).confirm_type, 0);
  const done = await waitFor(
    async () => {
      const x = await gw.transactionStatus(ref);
      return x?.status === 'succeeded' ? x : null;
    },
    { what: 'confirmed payout' },
  );
  assert.equal(done.code, '2');
  assert.equal(rig.ledger.filter((e) => e.reference === ref).length, 1);
});
