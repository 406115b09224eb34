// The 5.7.3 `extra` object is no stricter in the sandbox than in the gateway's documentation: the
// reference calculateSignature (docs/gateways.md, "5.7.3 signature") walks booleans, null,
// numbers and nested objects alike, so the sandbox accepts them and checks the signature over
// them. The base strings below are written out by hand from the PHP function's rules:
// (string)true = "1", (string)false = (string)null = "", nested keys joined with ".".
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startRig, uid, MERCHANT, SECRET, type Rig } from './support.js';
import { closeSharedRedis } from '../../support/redis.js';

let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig.close();
  await closeSharedRedis();
});

const hmac512 = (s: string) => createHmac('sha512', SECRET).update(s).digest('hex');

async function postRaw(path: string, raw: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${rig.url}/sandbox/pag/anypublicid/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
  return { status: res.status, json: await res.json() };
}

function c2b(orderId: string, extraJson: string): { withoutSignature: string; base: (extraBase: string) => string } {
  const head = `"merchant_id":"${MERCHANT}","customer_id":"254712345678","customer_user_id":"u-1","order_id":"${orderId}","amount":"100.00","currency":"KES","provider_id":14`;
  return {
    withoutSignature: `{${head},"extra":${extraJson}`,
    base: (extraBase) => `merchant_id${MERCHANT}customer_id254712345678customer_user_idu-1order_id${orderId}amount100.00currencyKESprovider_id14${extraBase}`,
  };
}

test('extra.save_card: true is accepted and signed as "1"', async () => {
  const id = uid('card');
  const b = c2b(id, '{"save_card":true}');
  const sig = hmac512(b.base('extra.save_card1'));
  const r = await postRaw('payment_c2b', `${b.withoutSignature},"signature":"${sig}"}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.status, 1);
  assert.deepEqual((rig.ledger.find((e) => e.reference === id)!.body as { extra: unknown }).extra, { save_card: true });
  // The same body signed as if true were "true" is a mismatch: the walk really is PHP's.
  const wrong = hmac512(b.base('extra.save_cardtrue'));
  const bad = await postRaw('payment_c2b', `${c2b(uid('card'), '{"save_card":true}').withoutSignature},"signature":"${wrong}"}`);
  assert.equal(bad.status, 401);
});

test('extra with false, null, numbers, nested objects and lists is accepted with the PHP walk', async () => {
  const id = uid('mix');
  const b = c2b(id, '{"save_card":false,"note":null,"tries":3,"ratio":1.5,"card":{"last4":"4242","brand":{"name":"VISA"}},"tags":["a",true]}');
  const base = b.base('extra.save_cardextra.noteextra.tries3extra.ratio1.5extra.card.last44242extra.card.brand.nameVISAextra.tags.0aextra.tags.11');
  const r = await postRaw('payment_c2b', `${b.withoutSignature},"signature":"${hmac512(base)}"}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.status, 1);
});

test('STATUS with a non-string extra value is read, not refused; a bad extra type still is', async () => {
  const id = uid('st');
  const b = c2b(id, '{"save_card":true}');
  assert.equal((await postRaw('payment_c2b', `${b.withoutSignature},"signature":"${hmac512(b.base('extra.save_card1'))}"}`)).status, 200);
  const st = `{"merchant_id":"${MERCHANT}","order_id":"${id}","extra":{"otp":null,"flag":true}`;
  const stBase = `merchant_id${MERCHANT}order_id${id}extra.otpextra.flag1`;
  const r = await postRaw('status', `${st},"signature":"${hmac512(stBase)}"}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.order_id, id);
  // extra must still be an object: a string is a parameter error (400), not a crash.
  const s2 = `{"merchant_id":"${MERCHANT}","order_id":"${id}","extra":"x"`;
  const r2 = await postRaw('status', `${s2},"signature":"${hmac512(`merchant_id${MERCHANT}order_id${id}extrax`)}"}`);
  assert.equal(r2.status, 400);
  assert.match(r2.json.result.message, /extra must be an object/);
});
