// The gateway roles with the Payment API Gateway 5.7.3 (PAG), which collects (payment_c2b) and
// pays out (payment_b2c) but sells no airtime, bills or SMS:
// - GATEWAY=pag with a menu that sells airtime does not start (no charge-and-refund at run time);
// - GATEWAY=pag with a merchant-payments menu works: checkout, callback on /callbacks/pag;
// - COLLECT_GATEWAY=pag with FULFIL_GATEWAY=kyanda: paid through PAG, vended through Kyanda.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ledger, orderOf, waitState, assertInvariants, vendsFor, type Svc } from './support.js';
import { Phone } from '../support/ussd.js';

const running: Svc[] = [];
after(async () => {
  for (const s of running) await s.svc.close();
});

test('GATEWAY=pag with a menu selling airtime, bills and SMS codes refuses to start, naming each screen', async () => {
  await assert.rejects(start({ GATEWAY: 'pag' }), (err: Error) => {
    assert.match(err.message, /screens\.airtime_do: action "airtime" needs airtime for the airtime, which FULFIL_GATEWAY=pag does not offer/);
    assert.match(err.message, /screens\.bill_do: action "paybill" needs bills/);
    assert.match(err.message, /screens\.agent_activate_send: action "agent_otp_send" needs sms .* SMS_GATEWAY=pag/);
    assert.doesNotMatch(err.message, /merchant_do/, 'paying a merchant is something PAG can do');
    return true;
  });
});

test('GATEWAY=pag, merchant menu: checkout by payment_c2b, signed callback on /callbacks/pag, status lookup, fulfilled', async () => {
  const s = await start({ GATEWAY: 'pag', MENUS_DIR: 'test/fixtures/menus/pag-merchant' });
  running.push(s);
  const phone = new Phone(s.url, '+254712500001');
  await phone.dial();
  assert.match(await phone.walk('1', 'TILL77', '210', '1'), /^END You will receive an M-PESA prompt to pay KES 210/);
  const o = await orderOf(s, phone.sessionId);
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'fulfilled');
  const l = await ledger(s);
  assert.ok(
    l.some((e) => e.endpoint.startsWith('pag/') && e.reference === `${o.id}-checkout`),
    JSON.stringify(l.map((e) => [e.endpoint, e.reference])),
  );
  const paid = (await s.payments.store.history(o.id)).find((h) => h.to === 'paid');
  assert.match(paid!.cause, /^payment confirmed by the gateway's status lookup/);
  // SMS this gateway cannot send is refused up front (501), not accepted and lost.
  const auth = { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json' };
  const otp = await fetch(`${s.url}/api/otp`, { method: 'POST', headers: auth, body: JSON.stringify({ phone: '0712500001', purpose: 'login' }) });
  assert.equal(otp.status, 501);
  assert.match(((await otp.json()) as { message: string }).message, /SMS_GATEWAY=pag cannot send SMS/);
  const bulk = await fetch(`${s.url}/api/sms/bulk`, { method: 'POST', headers: auth, body: JSON.stringify({ message: 'hi', recipients: ['0712500001'] }) });
  assert.equal(bulk.status, 501);
  // Only the gateways the roles use have a callback route.
  assert.equal((await fetch(`${s.url}/callbacks/kyanda`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 404);
  await assertInvariants(s);
});

test('COLLECT_GATEWAY=pag, FULFIL_GATEWAY=kyanda: airtime paid through PAG, vended once through Kyanda', async () => {
  const s = await start({ GATEWAY: 'kyanda', COLLECT_GATEWAY: 'pag' });
  running.push(s);
  const phone = new Phone(s.url, '+254712500002');
  await phone.dial();
  await phone.walk('1', '1', '220', '1');
  const o = await orderOf(s, phone.sessionId);
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'fulfilled');
  const l = await ledger(s);
  assert.ok(
    l.some((e) => e.endpoint === 'pag/payment_c2b' && e.reference === `${o.id}-checkout`),
    'collected by PAG',
  );
  assert.equal(vendsFor(l, o.id).length, 1, 'vended by Kyanda');
  assert.ok(!l.some((e) => e.endpoint === 'checkout' && e.reference === `${o.id}-checkout`), 'no Kyanda checkout');
  await assertInvariants(s);
});
