// offline_mode on the Kyanda-family wire (docs/money.md, "Two ways to pay"; docs/gateways.md,
// "Offline mode"): asked for exactly where nobody is waiting on the answer:
// - the vend of an order paid by checkout (the customer has left the session): offline_mode;
// - a refund payout: offline_mode;
// - a bulk SMS batch (a campaign can wait): offline_mode;
// and never on a checkout, an agent's float vend (the agent is waiting), an OTP or a receipt SMS.
// Asserted on the bodies the sandbox received (GET /sandbox/_ledger).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { start, ledger, orderOf, waitState, faults, vendsFor, assertInvariants, type Entry, type Svc } from './support.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

let s: Svc;
before(async () => {
  s = await start();
});
after(() => s.svc.close());
const AUTH = { authorization: 'Bearer test-api-token-0123456789' };

const offline = (e: Entry | undefined) => e?.body.offline_mode;
const byRef = async (reference: string) => (await ledger(s)).filter((e) => e.reference === reference);

async function buyAirtime(msisdn: string, kes: string): Promise<string> {
  const phone = new Phone(s.url, msisdn);
  await phone.dial();
  assert.match(await phone.walk('1', '1', kes, '1'), /^END You will receive an M-PESA prompt/);
  return (await orderOf(s, phone.sessionId)).id;
}

test('paid by checkout: the vend carries offline_mode; the checkout and the receipt SMS do not', async () => {
  const id = await buyAirtime('+254712900001', '100');
  assert.equal((await waitState(s, id, ['fulfilled'], 15_000)).state, 'fulfilled');
  const checkout = await byRef(`${id}-checkout`);
  assert.equal(checkout.length, 1);
  assert.equal(offline(checkout[0]), undefined, 'a checkout is never sent with offline_mode');
  const vends = vendsFor(await ledger(s), id);
  assert.equal(vends.length, 1);
  assert.equal(vends[0]!.endpoint, 'airtime');
  assert.equal(offline(vends[0]), true, 'the vend is queued by the gateway if it must');
  const receipt = await waitFor(async () => (await byRef(`${id}-smsreceipt`))[0], 8000);
  assert.equal(receipt.endpoint, 'sms');
  assert.equal(offline(receipt), undefined, 'a receipt SMS is sent now or not at all');
  await assertInvariants(s);
});

test('a refund payout carries offline_mode', async () => {
  await faults(s, { checkoutPaid: { amount: 40, count: 1 } });
  const id = await buyAirtime('+254712900002', '100');
  assert.equal((await waitState(s, id, ['refunded'], 15_000)).state, 'refunded');
  const payouts = await byRef(`${id}-refund1`);
  assert.equal(payouts.length, 1);
  assert.equal(payouts[0]!.endpoint, 'mobile-payout');
  assert.equal(offline(payouts[0]), true);
  await assertInvariants(s);
});

test('an agent selling from float waits on the screen: its vend has no offline_mode', async () => {
  await s.agents.add('+254722900003');
  await s.agents.setPin('+254722900003', '1357');
  const phone = new Phone(s.url, '+254722900003');
  await phone.dial();
  assert.match(await phone.walk('6', '2', '1', '0712900003', '150', '1357'), /^END Sent KES 150 airtime/);
  const o = await orderOf(s, phone.sessionId);
  assert.equal(o.pay, 'float');
  const vends = vendsFor(await ledger(s), o.id);
  assert.equal(vends.length, 1);
  assert.equal(offline(vends[0]), undefined);
  await assertInvariants(s);
});

test('an OTP is sent without offline_mode; a bulk SMS batch with it', async () => {
  const otp = await fetch(`${s.url}/api/otp`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ phone: '0712900004', purpose: 'login' }),
  });
  assert.ok(otp.ok, `OTP: ${otp.status}`);
  const otpEntry = await waitFor(
    async () => (await ledger(s)).find((e) => e.endpoint === 'sms' && e.reference?.startsWith('otp-') && String(e.body.phone).endsWith('712900004')),
    8000,
  );
  assert.equal(offline(otpEntry), undefined, 'an OTP is useful now or never');

  const message = `Offline mode check ${Date.now()}`;
  const csv = 'name,phone\na,0712900005\nb,0712900006\n';
  const r = await fetch(`${s.url}/api/sms/bulk?message=${encodeURIComponent(message)}`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'text/csv' },
    body: csv,
  });
  const { id } = (await r.json()) as { id: string };
  assert.equal(r.status, 202, id);
  const batch = await waitFor(async () => (await byRef(`sms-${id}-1`))[0], 10_000);
  assert.equal(batch.endpoint, 'sms');
  assert.equal(offline(batch), true, 'a campaign batch may be queued by the gateway');
  assert.equal((await byRef(`sms-${id}-2`)).length, 0, 'two numbers, one batch');
});
