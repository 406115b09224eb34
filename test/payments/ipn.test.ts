// IPNs under abuse: duplicates (5 at once), out of order, forged, unknown references.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { start, ledger, orderOf, waitState, assertInvariants, vendsFor } from './support.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

// A slow customer (3 s to enter the M-PESA PIN) leaves room to send IPNs before the real one.
const s = await start({ SANDBOX_CHECKOUT_DELAY_MS: '3000' });
after(() => s.svc.close());
const secret = s.svc.app.config.GATEWAY_WEBHOOK_SECRET;
const header = s.svc.app.config.GATEWAY_SIGNATURE_HEADER;

function ipnBody(fields: Record<string, unknown>): string {
  return JSON.stringify({
    category: 'Checkout',
    source: '0712000000',
    destination: 'sandbox-merchant',
    MerchantID: 'sandbox-merchant',
    details: {},
    status: 'Success',
    status_code: '0000',
    message: 'Success',
    transactionDate: '2026-11-23 10:20AM',
    Amount: '60',
    ...fields,
  });
}

async function postIpn(body: string, sig = createHmac('sha256', secret).update(body).digest('hex')): Promise<{ status: number; json: unknown; ms: number }> {
  const t = performance.now();
  const r = await fetch(`${s.url}/callbacks/kyanda`, { method: 'POST', body, headers: { 'content-type': 'application/json', [header]: sig } });
  return { status: r.status, json: await r.json(), ms: performance.now() - t };
}

async function pendingCheckout(msisdn: string, amount: string) {
  const phone = new Phone(s.url, msisdn);
  await phone.dial();
  await phone.walk('1', '1', amount, '1');
  const o = await orderOf(s, phone.sessionId);
  return waitFor(async () => {
    const cur = await s.payments.store.get(o.id);
    return cur?.checkoutRef ? cur : undefined;
  }, 3000);
}

test('5 signed Success IPNs while the checkout is still pending: answered fast, nothing paid until the status lookup says so', async () => {
  const o = await pendingCheckout('+254712300001', '60');
  const body = ipnBody({ transactionRef: o.checkoutRef, requestMetadata: { reference: `${o.id}-checkout` } });
  const answers = await Promise.all(Array.from({ length: 5 }, () => postIpn(body)));
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, { status: 'success' });
  }
  // The IPN is only a reason to look: the gateway still says Pending, so nothing moves.
  await waitFor(async () => ((await s.payments.store.history(o.id)).some((e) => /status lookup after IPN/.test(e.cause)) ? true : undefined), 3000);
  assert.equal((await s.payments.store.get(o.id))?.state, 'awaiting_payment');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0, 'nothing vended on the IPN alone');
  // The customer really pays (3 s): the sandbox's own IPN, a lookup, one payment, one vend.
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'fulfilled');
  const h = await s.payments.store.history(o.id);
  assert.equal(h.filter((e) => e.to === 'paid').length, 1);
  assert.match(h.find((e) => e.to === 'paid')!.cause, /^payment confirmed by the gateway's status lookup/);
  assert.equal(vendsFor(await ledger(s), o.id).length, 1);
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  console.log(`# IPN answer latency (5 concurrent): median ${ms[2]!.toFixed(1)} ms, max ${ms[4]!.toFixed(1)} ms`);
  assert.ok(ms[4]! < 1000, 'answered well within 10 s');
  await assertInvariants(s);
});

test("a signed Success IPN, then the gateway's authoritative Failed: cancelled, told, nothing vended", async () => {
  // 0700000001: the sandbox's customer who cancels the prompt.
  const o = await pendingCheckout('+254700000001', '63');
  const body = ipnBody({ transactionRef: o.checkoutRef, requestMetadata: { reference: `${o.id}-checkout` } });
  assert.equal((await postIpn(body)).status, 200);
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'cancelled');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0);
  assert.equal((await s.payments.store.history(o.id)).filter((e) => e.to === 'paid').length, 0);
  await assertInvariants(s);
});

test('an unsigned IPN is accepted (the documented IPN has no signature) and acts only through the lookup', async () => {
  const o = await pendingCheckout('+254712300004', '64');
  const body = ipnBody({ transactionRef: o.checkoutRef, requestMetadata: { reference: `${o.id}-checkout` } });
  const r = await fetch(`${s.url}/callbacks/kyanda`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'success' });
  await new Promise((res) => setTimeout(res, 500));
  assert.equal((await s.payments.store.get(o.id))?.state, 'awaiting_payment', 'still pending at the gateway');
  assert.equal((await waitState(s, o.id, 'terminal', 10_000)).state, 'fulfilled');
  await assertInvariants(s);
});

test('out of order: a late Pending or Failed after Success changes nothing', async () => {
  const o = await pendingCheckout('+254712300002', '61');
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'fulfilled');
  const before = await s.payments.store.history(o.id);
  assert.equal(
    (await postIpn(ipnBody({ transactionRef: o.checkoutRef, status: 'Pending', status_code: '1100', requestMetadata: { reference: `${o.id}-checkout` } })))
      .status,
    200,
  );
  assert.equal(
    (await postIpn(ipnBody({ transactionRef: o.checkoutRef, status: 'Failed', status_code: '5000', requestMetadata: { reference: `${o.id}-checkout` } })))
      .status,
    200,
  );
  assert.equal(
    (
      await postIpn(
        ipnBody({
          category: 'Airtime',
          transactionRef: done.fulfilRef ?? 'X',
          status: 'Failed',
          status_code: '5000',
          requestMetadata: { reference: `${o.id}-fulfil` },
        }),
      )
    ).status,
    200,
  );
  await new Promise((r) => setTimeout(r, 500));
  const after = await s.payments.store.get(o.id);
  assert.equal(after?.state, 'fulfilled');
  const h = await s.payments.store.history(o.id);
  assert.equal(h.filter((e) => e.from !== e.to).length, before.filter((e) => e.from !== e.to).length, 'no state change');
  assert.equal((await ledger(s)).filter((e) => e.endpoint === 'mobile-payout' && e.reference?.startsWith(o.id)).length, 0, 'no refund');
  await assertInvariants(s);
});

test('a forged IPN (bad signature) gets 401 and changes nothing', async () => {
  const o = await pendingCheckout('+254712300003', '62');
  const body = ipnBody({ transactionRef: o.checkoutRef, requestMetadata: { reference: `${o.id}-checkout` } });
  assert.equal((await postIpn(body, 'ab'.repeat(32))).status, 401);
  assert.equal((await postIpn(body, '')).status, 401);
  const forgedSig = createHmac('sha256', 'not-the-secret').update(body).digest('hex');
  assert.equal((await postIpn(body, forgedSig)).status, 401);
  const tampered = createHmac('sha256', secret).update(body).digest('hex');
  assert.equal((await postIpn(body.replace('"60"', '"6000"'), tampered)).status, 401);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await s.payments.store.get(o.id))?.state, 'awaiting_payment');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0);
  await waitState(s, o.id, 'terminal', 10_000); // the real IPN then completes it
  await assertInvariants(s);
});

test('an IPN for an unknown reference is kept for inspection; the other gateway route is 404', async () => {
  const r = await postIpn(ipnBody({ transactionRef: 'KYA-NOT-OURS-1', requestMetadata: { reference: 'someone-else' } }));
  assert.equal(r.status, 200);
  const list = await waitFor(async () => {
    const res = await fetch(`${s.url}/api/ipns/unknown`, { headers: { authorization: 'Bearer test-api-token-0123456789' } });
    const j = (await res.json()) as { ipns: Array<{ gatewayRef: string }> };
    return j.ipns.some((i) => i.gatewayRef === 'KYA-NOT-OURS-1') ? j.ipns : undefined;
  });
  assert.ok(list.length >= 1);
  const pag = await fetch(`${s.url}/callbacks/pag`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(pag.status, 404);
});

test("normal traffic's own SMS notices (receipts, OTPs, bulk batches) are recognised, not listed as unknown", async () => {
  const auth = { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json' };
  const before = ((await (await fetch(`${s.url}/api/ipns/unknown`, { headers: auth })).json()) as { ipns: unknown[] }).ipns.length;
  // A purchase (its receipt SMS), an OTP and a small bulk send: each SMS gets an IPN from the sandbox.
  const o = await pendingCheckout('+254712300009', '65');
  await waitState(s, o.id, 'terminal', 10_000);
  assert.ok(
    [200, 202].includes(
      (await fetch(`${s.url}/api/otp`, { method: 'POST', headers: auth, body: JSON.stringify({ phone: '0712300010', purpose: 'login' }) })).status,
    ),
  );
  assert.equal(
    (
      await fetch(`${s.url}/api/sms/bulk`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ message: 'Hello from the shop', recipients: ['0712300011', '0712300012'] }),
      })
    ).status,
    202,
  );
  const smsIpns = await waitFor(async () => {
    const all = (await (await fetch(`${s.url}/sandbox/_ipn`)).json()) as Array<{
      body: { category?: string; requestMetadata?: { reference?: string } };
      state: string;
    }>;
    const refs = all.filter((d) => d.state === 'delivered').map((d) => d.body.requestMetadata?.reference ?? '');
    const kinds = ['-smsreceipt', 'otp-', 'sms-'].filter((k) => refs.some((r) => r.includes(k)));
    return kinds.length === 3 ? refs : undefined;
  }, 10_000);
  assert.ok(smsIpns.length >= 3);
  await new Promise((r) => setTimeout(r, 500)); // their jobs run
  const after = ((await (await fetch(`${s.url}/api/ipns/unknown`, { headers: auth })).json()) as { ipns: unknown[] }).ipns.length;
  assert.equal(after, before, 'no new unknown IPNs');
});
