// With GATEWAY=pag (Payment API Gateway 5.7.3): pay merchant by payment_c2b, IPN on /callbacks/pag.
// That gateway has no airtime/bill/SMS endpoints: a vend order is refunded by payment_b2c.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, Phone, ledger, orderOf, waitState, assertInvariants } from './support.js';

const s = await start({ GATEWAY: 'pag' });
after(() => s.svc.close());

test('pay merchant through the PAG gateway: checkout, signed callback on /callbacks/pag, fulfilled', async () => {
  const phone = new Phone(s.url, '+254712500001');
  await phone.dial();
  assert.match(await phone.walk('5', 'TILL77', '210', '1'), /^END You will receive an M-PESA prompt to pay KES 210/);
  const o = await orderOf(s, phone.sessionId);
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'fulfilled');
  const l = await ledger(s);
  assert.ok(l.some((e) => e.endpoint.startsWith('pag/') && e.reference === `${o.id}-checkout`), JSON.stringify(l.map((e) => [e.endpoint, e.reference])));
  assert.equal((await fetch(`${s.url}/callbacks/kyanda`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 404);
  await assertInvariants(s);
});

test('airtime through PAG (no airtime endpoint): paid, then refunded by payout', async () => {
  const phone = new Phone(s.url, '+254712500002');
  await phone.dial();
  await phone.walk('1', '1', '220', '1');
  const o = await orderOf(s, phone.sessionId);
  const done = await waitState(s, o.id, 'terminal', 10_000);
  assert.equal(done.state, 'refunded');
  await assertInvariants(s);
});
