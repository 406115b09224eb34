// Customer pays by checkout, end to end through POST /ussd against the embedded sandbox.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ledger, orderOf, waitState, waitSms, assertInvariants, vendsFor } from './support.js';
import { Phone } from '../support/ussd.js';

const s = await start();
after(() => s.svc.close());

test('airtime for my number by M-PESA checkout: END prompt, checkout after reply, vend, SMS receipt', async () => {
  const phone = new Phone(s.url, '+254712000001');
  await phone.dial();
  const confirm = await phone.walk('1', '1', '100');
  assert.match(confirm, /^CON Buy airtime KES 100/);
  const t0 = Date.now();
  const end = await phone.send('1');
  const tReply = Date.now();
  assert.match(end, /^END You will receive an M-PESA prompt to pay KES 100/);
  const o = await orderOf(s, phone.sessionId);
  assert.equal(o.kind, 'airtime');
  assert.equal(o.amountMinor, 10_000);
  assert.equal(o.telco, 'SAFARICOM');
  const done = await waitState(s, o.id, 'terminal');
  assert.equal(done.state, 'fulfilled');
  const sms = await waitSms(s, '+254712000001', 'Success');
  assert.match(sms.message, new RegExp(o.id));
  const l = await ledger(s);
  const checkout = l.filter((e) => e.endpoint === 'checkout' && e.reference === `${o.id}-checkout`);
  assert.equal(checkout.length, 1);
  assert.ok(Date.parse(checkout[0]!.at) >= t0, 'checkout created only after the confirming request');
  // Promoted once the END reply was sent, not left to CHECKOUT_DELAY_MS (3 s here).
  assert.ok(Date.parse(checkout[0]!.at) - tReply < 1500, `checkout ${Date.parse(checkout[0]!.at) - tReply} ms after the reply`);
  assert.equal(vendsFor(l, o.id).length, 1);
  const vend = vendsFor(l, o.id)[0]!;
  assert.equal(vend.body.telco, 'SAFARICOM');
  assert.equal(vend.body.phone, '0712000001');
  assert.equal(vend.body.amount, '100');
  const h = await s.payments.store.history(o.id);
  assert.deepEqual(
    h.map((e) => e.to).filter((v, i, a) => a.indexOf(v) === i),
    ['created', 'awaiting_payment', 'paid', 'fulfilling', 'fulfilled'],
  );
  const paidAt = Date.parse(h.find((e) => e.to === 'paid')!.at);
  const smsAt = Date.parse(sms.at);
  console.log(
    `# checkout IPN (paid) → SMS receipt at the gateway: ${smsAt - paidAt} ms; END reply → checkout request: ${Date.parse(checkout[0]!.at) - tReply} ms; END reply → receipt: ${smsAt - tReply} ms (sandbox checkout delay 150 ms)`,
  );
  await assertInvariants(s);
});

test('airtime for another number (Airtel prefix) goes to that telco', async () => {
  const phone = new Phone(s.url, '+254712000002');
  await phone.dial();
  const end = await phone.walk('1', '2', '0733000002', '50', '1');
  assert.match(end, /^END You will receive an M-PESA prompt to pay KES 50/);
  const o = await orderOf(s, phone.sessionId);
  assert.equal((await waitState(s, o.id, 'terminal')).state, 'fulfilled');
  const vend = vendsFor(await ledger(s), o.id)[0]!;
  assert.equal(vend.body.telco, 'AIRTEL');
  assert.equal(vend.body.phone, '0733000002');
  await waitSms(s, '+254712000002', '0733000002');
  await assertInvariants(s);
});

test("networkCode wins over the prefix for the subscriber's own number (ported SIM)", async () => {
  const { post } = await import('../support/ussd.js');
  const sessionId = `ATUid_ported_${Date.now()}`;
  const base = { sessionId, phoneNumber: '+254712000003', networkCode: '63903' };
  for (const text of ['', '1', '1*1', '1*1*20', '1*1*20*1']) {
    const r = await post(s.url, { ...base, text });
    assert.equal(r.status, 200);
  }
  const o = await orderOf(s, sessionId);
  assert.equal(o.telco, 'AIRTEL');
  await waitState(s, o.id, ['fulfilled']);
});

test('data bundle by checkout: Faiba FAIBA_B with the product code and its price', async () => {
  const phone = new Phone(s.url, '+254712000004');
  await phone.dial();
  await phone.walk('2', '3'); // 1GB 1 day KES 50
  const end = await phone.walk('1', '1');
  assert.match(end, /^END You will receive an M-PESA prompt to pay KES 50/);
  const o = await orderOf(s, phone.sessionId);
  assert.equal((await waitState(s, o.id, 'terminal')).state, 'fulfilled');
  const vend = vendsFor(await ledger(s), o.id)[0]!;
  assert.equal(vend.body.telco, 'FAIBA_B');
  assert.equal(vend.body.productCode, 'DailyData1GB');
  assert.equal(vend.body.amount, '50');
  await waitSms(s, '+254712000004', '1GB 1 day');
  await assertInvariants(s);
});

test('KPLC prepaid bill by checkout: the SMS receipt carries the token', async () => {
  const phone = new Phone(s.url, '+254712000005');
  await phone.dial();
  const end = await phone.walk('3', '1', '12345678901', '500', '1');
  assert.match(end, /^END You will receive an M-PESA prompt to pay KES 500/);
  const o = await orderOf(s, phone.sessionId);
  const done = await waitState(s, o.id, 'terminal');
  assert.equal(done.state, 'fulfilled');
  assert.match(done.token ?? '', /^\d{20}$/);
  const sms = await waitSms(s, '+254712000005', 'Token');
  assert.match(sms.message, /Token \d{4}-\d{4}-\d{4}-\d{4}-\d{4}/);
  const vend = vendsFor(await ledger(s), o.id)[0]!;
  assert.equal(vend.endpoint, 'bill');
  assert.equal(vend.body.account, '12345678901');
  await assertInvariants(s);
});

test('pay merchant: paid is the end of it, receipt by SMS, nothing vended', async () => {
  const phone = new Phone(s.url, '+254712000006');
  await phone.dial();
  const end = await phone.walk('5', 'SHOP42', '250', '1');
  assert.match(end, /^END You will receive an M-PESA prompt to pay KES 250/);
  const o = await orderOf(s, phone.sessionId);
  assert.equal((await waitState(s, o.id, 'terminal')).state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0);
  await waitSms(s, '+254712000006', 'SHOP42');
  await assertInvariants(s);
});

test('checkout cancelled by the customer (0700000001): SMS, order cancelled, nothing vended', async () => {
  const phone = new Phone(s.url, '+254700000001');
  await phone.dial();
  await phone.walk('1', '1', '30', '1');
  const o = await orderOf(s, phone.sessionId);
  assert.equal((await waitState(s, o.id, 'terminal')).state, 'cancelled');
  await waitSms(s, '+254700000001', 'not charged');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0);
  await assertInvariants(s);
});

test('checkout failing for insufficient funds (0700000002): failed, SMS, nothing vended', async () => {
  const phone = new Phone(s.url, '+254700000002');
  await phone.dial();
  await phone.walk('1', '1', '40', '1');
  const o = await orderOf(s, phone.sessionId);
  assert.equal((await waitState(s, o.id, 'terminal')).state, 'failed');
  await waitSms(s, '+254700000002', 'not charged');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0);
  await assertInvariants(s);
});

test('the aggregator repeating the confirming request (overlapping and after) makes one order, one checkout, one vend', async () => {
  const phone = new Phone(s.url, '+254712000007');
  await phone.dial();
  await phone.walk('1', '1', '70');
  const [a, b] = await Promise.all([phone.send('1'), phone.req()]);
  const c = await phone.req();
  for (const r of [a, b, c]) assert.match(r, /^END /);
  const o = await orderOf(s, phone.sessionId);
  await waitState(s, o.id, 'terminal');
  const ids = [];
  for (const id of await s.payments.store.ids()) if ((await s.payments.store.get(id))?.session === phone.sessionId) ids.push(id);
  assert.equal(ids.length, 1);
  const l = await ledger(s);
  assert.equal(l.filter((e) => e.endpoint === 'checkout' && e.reference?.startsWith(o.id)).length, 1);
  assert.equal(vendsFor(l, o.id).length, 1);
  await assertInvariants(s);
});

test('a vend that fails after payment is refunded by mobile payout, with an SMS', async () => {
  const r = await fetch(`${s.url}/sandbox/_faults`, {
    method: 'POST',
    body: JSON.stringify({ failNext: { code: '1107', count: 1, path: '/v1/airtime/' } }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 200);
  const phone = new Phone(s.url, '+254712000008');
  await phone.dial();
  await phone.walk('1', '1', '80', '1');
  const o = await orderOf(s, phone.sessionId);
  const done = await waitState(s, o.id, 'terminal');
  assert.equal(done.state, 'refunded');
  const l = await ledger(s);
  const payouts = l.filter((e) => e.endpoint === 'mobile-payout' && e.reference?.startsWith(o.id));
  assert.equal(payouts.length, 1);
  assert.equal((payouts[0]!.body.destination as Record<string, unknown>).amount, '80');
  assert.equal(vendsFor(l, o.id).length, 0);
  await waitSms(s, '+254712000008', 'refunded');
  await assertInvariants(s);
});

test('operators see an order and its history: GET /api/orders/:id with the bearer token', async () => {
  const phone = new Phone(s.url, '+254712000009');
  await phone.dial();
  await phone.walk('1', '1', '90', '1');
  const o = await orderOf(s, phone.sessionId);
  await waitState(s, o.id, 'terminal');
  assert.equal((await fetch(`${s.url}/api/orders/${o.id}`)).status, 401);
  const res = await fetch(`${s.url}/api/orders/${o.id}`, { headers: { authorization: 'Bearer test-api-token-0123456789' } });
  assert.equal(res.status, 200);
  const j = (await res.json()) as { order: { id: string; state: string }; history: Array<{ to: string; cause: string; at: string }> };
  assert.equal(j.order.id, o.id);
  assert.equal(j.order.state, 'fulfilled');
  assert.ok(j.history.length >= 5);
  assert.equal((await fetch(`${s.url}/api/orders/KNOPE`, { headers: { authorization: 'Bearer test-api-token-0123456789' } })).status, 404);
});
