// IPN verification (HMAC-SHA256 of the raw body, constant-time compare, configurable header;
// optional unless IPN_SIGNATURE=required, because the documented IPN carries none) and parsing
// of the documented payload (docs/gateways.md, "IPN") into a TransactionUpdate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { gateway } from './support.js';
import { closeSharedRedis } from '../../support/redis.js';
import { parseIpn, verifyIpnSignature } from '../../../src/gateway/kyanda/ipn.js';
import type { CallbackParse } from '../../../src/gateway/types.js';

after(() => closeSharedRedis());

const WEBHOOK_SECRET = 'webhook-secret-for-tests';
const cfg = { header: 'X-Kemru-Signature', secret: WEBHOOK_SECRET };
const strict = { ...cfg, required: true };
const sign = (raw: string, secret = WEBHOOK_SECRET) => createHmac('sha256', secret).update(raw).digest('hex');
/** The update, or null when refused. */
const upd = (r: CallbackParse) => (r.ok ? r.update : null);

// The documented IPN payload (docs/gateways.md, "IPN"), plus the requestMetadata our sandbox echoes.
const seedIpn = {
  category: 'MobilePayout',
  source: '+254739117883',
  destination: '+254739117883',
  MerchantID: '89',
  details: { biller_Receipt: 'WSA2639191930300', Telco_Reference: 'RA1388393' },
  status: 'Success',
  status_code: '0000',
  message: 'Your request has been processed successfully.',
  transactionDate: '2025-04-11 11:20AM',
  transactionRef: 'KYA1234219488',
  Amount: '1500',
  requestMetadata: { reference: 'order-42:payout' },
};

test('a genuine seed-002 IPN parses into a TransactionUpdate', () => {
  const raw = JSON.stringify(seedIpn);
  const u = upd(parseIpn({ 'x-kemru-signature': sign(raw) }, raw, cfg));
  assert.ok(u);
  assert.equal(u.gateway, 'kyanda');
  assert.equal(u.gatewayRef, 'KYA1234219488');
  assert.equal(u.reference, 'order-42:payout');
  assert.equal(u.status, 'succeeded');
  assert.equal(u.code, '0000');
  assert.equal(u.message, 'Your request has been processed successfully.');
  assert.equal(u.amountMinor, 150000);
  assert.equal(u.category, 'MobilePayout');
  assert.equal(u.source, '+254739117883');
  assert.deepEqual(u.details, { biller_Receipt: 'WSA2639191930300', Telco_Reference: 'RA1388393' });
  assert.deepEqual(u.raw, seedIpn);
});

test('status mapping and the Kenya Power token detail', () => {
  const cases: Array<[string, string]> = [
    ['Success', 'succeeded'],
    ['Failed', 'failed'],
    ['Reversed', 'reversed'],
    ['Pending', 'pending'],
    ['Processing', 'pending'],
    ['Queued', 'pending'],
  ];
  for (const [status, want] of cases) {
    const raw = JSON.stringify({ ...seedIpn, status, category: 'BillPayment', details: { token: '12345678901234567890' } });
    const u = upd(parseIpn({ 'X-Kemru-Signature': sign(raw) }, raw, cfg));
    assert.equal(u?.status, want, status);
    assert.equal(u?.details.token, '12345678901234567890');
  }
});

test('the failed checkout IPN keeps its code and reason', () => {
  const raw = JSON.stringify({
    ...seedIpn,
    category: 'Checkout',
    status: 'Failed',
    status_code: '5000',
    message: 'Request cancelled by user',
    details: { reason: 'CANCELLED_BY_USER' },
  });
  const u = upd(parseIpn({ 'x-kemru-signature': sign(raw) }, raw, cfg));
  assert.equal(u?.status, 'failed');
  assert.equal(u?.code, '5000');
  assert.equal(u?.details.reason, 'CANCELLED_BY_USER');
});

test('forged, tampered or truncated signatures are refused; a missing one only when required', () => {
  const raw = JSON.stringify(seedIpn);
  const good = sign(raw);
  const bad = { ok: false, why: 'bad_signature' };
  // The documented IPN carries no signature: accepted (money moves only on a status lookup)…
  assert.equal(upd(parseIpn({}, raw, cfg))?.gatewayRef, 'KYA1234219488', 'no header: accepted');
  assert.equal(parseIpn({}, raw, cfg).ok && (parseIpn({}, raw, cfg) as { signed: boolean }).signed, false);
  // …unless IPN_SIGNATURE=required.
  assert.deepEqual(parseIpn({}, raw, strict), bad, 'no header, required');
  assert.ok(upd(parseIpn({ 'x-kemru-signature': good }, raw, strict)), 'signed, required');
  assert.deepEqual(parseIpn({ 'x-kemru-signature': sign(raw, 'guessed-secret') }, raw, cfg), bad, 'wrong secret');
  assert.deepEqual(parseIpn({ 'x-kemru-signature': good }, raw.replace('1500', '9500'), cfg), bad, 'body tampered');
  assert.deepEqual(parseIpn({ 'x-kemru-signature': good.slice(0, 62) }, raw, cfg), bad, 'short signature');
  assert.deepEqual(parseIpn({ 'x-kemru-signature': `${good}00` }, raw, cfg), bad, 'long signature');
  assert.deepEqual(parseIpn({ 'x-kemru-signature': 'zz'.repeat(32) }, raw, cfg), bad, 'not hex');
  assert.deepEqual(parseIpn({ 'x-kemru-signature': '' }, raw, cfg), bad, 'empty signature');
  assert.deepEqual(parseIpn({ 'x-other-signature': good }, raw, strict), bad, 'wrong header name, required');
  assert.ok(verifyIpnSignature({ 'x-kemru-signature': [good, 'x'] }, raw, cfg), 'repeated header: first value');
  assert.ok(verifyIpnSignature({ 'X-KEMRU-SIGNATURE': good.toUpperCase() }, Buffer.from(raw), cfg), 'case-insensitive name and hex');
});

test('malformed bodies are refused as unreadable', () => {
  for (const raw of ['{not json', '[]', '"x"', JSON.stringify({ ...seedIpn, transactionRef: undefined }), JSON.stringify({ ...seedIpn, status: 'Exploded' })]) {
    assert.deepEqual(parseIpn({ 'x-kemru-signature': sign(raw) }, raw, cfg), { ok: false, why: 'unreadable' }, raw.slice(0, 30));
  }
});

test('a webhook signed under its own header verifies; a forged one there is refused, not taken as unsigned', () => {
  const both = { ...cfg, webhookHeader: 'X-Kemru-Technologies-Signature' };
  const raw = JSON.stringify({ event: 'payment.success', eventId: 'EVT1', ...seedIpn });
  assert.ok(upd(parseIpn({ 'x-kemru-technologies-signature': sign(raw) }, raw, both)), 'genuine');
  assert.deepEqual(parseIpn({ 'x-kemru-technologies-signature': sign(raw, 'forger') }, raw, both), { ok: false, why: 'bad_signature' });
  assert.deepEqual(
    parseIpn({ 'x-kemru-signature': sign(raw), 'x-kemru-technologies-signature': 'ab'.repeat(32) }, raw, both),
    { ok: false, why: 'bad_signature' },
    'one good, one forged',
  );
});

test('webhook events: the record inside, the event name kept, a reversal is a reversal', () => {
  const rec = { ...seedIpn, category: 'Checkout' };
  for (const [event, want] of [
    ['payment.success', 'succeeded'],
    ['payment.failed', 'failed'],
    ['payment.reversed', 'reversed'],
  ] as const) {
    const raw = JSON.stringify({ event, data: { ...rec, status: event === 'payment.failed' ? 'Failed' : 'Success' } });
    const r = parseIpn({ 'x-kemru-signature': sign(raw) }, raw, cfg);
    assert.ok(r.ok, event);
    assert.equal(r.event, event);
    assert.equal(r.update.status, want, event);
    assert.equal(r.update.gatewayRef, 'KYA1234219488');
  }
});

test('Gateway.parseCallback uses GATEWAY_SIGNATURE_HEADER and GATEWAY_WEBHOOK_SECRET', async () => {
  const gw = await gateway('http://127.0.0.1:9', { GATEWAY_SIGNATURE_HEADER: 'X-Test-Sig', GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET });
  try {
    const raw = JSON.stringify(seedIpn);
    assert.equal(upd(gw.parseCallback({ 'x-test-sig': sign(raw) }, raw))?.gatewayRef, 'KYA1234219488');
    // Under another header the signature is simply absent (accepted unsigned: IPN_SIGNATURE=optional).
    assert.equal((gw.parseCallback({ 'x-kemru-signature': sign(raw) }, raw) as { signed?: boolean }).signed, false);
    assert.equal(upd(gw.parseCallback({ 'x-test-sig': sign(raw, 'sandbox-secret') }, raw)), null);
  } finally {
    await gw.close();
  }
});

test('without GATEWAY_WEBHOOK_SECRET the webhook secret is GATEWAY_SECRET', async () => {
  const gw = await gateway('http://127.0.0.1:9', { GATEWAY_SECRET: 'the-api-secret' });
  try {
    const raw = JSON.stringify(seedIpn);
    assert.ok(upd(gw.parseCallback({ 'x-kemru-signature': sign(raw, 'the-api-secret') }, raw)));
    assert.equal(upd(gw.parseCallback({ 'x-kemru-signature': sign(raw, 'another-secret') }, raw)), null);
  } finally {
    await gw.close();
  }
});
