// Field formats of the 5.7.3 wire and the reading of its status codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAmount, parseAmount, isWireAmount, pagOrderId, customerId, PAG_CURRENCIES, COUNTRY_OF } from '../../../src/gateway/pag/wire.js';
import { toResult, toUpdate } from '../../../src/gateway/pag/replies.js';
import { loadConfig } from '../../../src/config.js';

test('amounts: minor units → "100.00" and back', () => {
  const cases: Array<[number, string]> = [
    [10000, '100.00'],
    [1, '0.01'],
    [10, '0.10'],
    [150050, '1500.50'],
    [99, '0.99'],
    [123456789, '1234567.89'],
  ];
  for (const [minor, wire] of cases) {
    assert.equal(formatAmount(minor), wire);
    assert.equal(parseAmount(wire), minor);
    assert.ok(isWireAmount(wire));
  }
  for (const bad of [0, -100, 1.5, Number.NaN, 2 ** 60]) assert.throws(() => formatAmount(bad), RangeError, String(bad));
  assert.equal(parseAmount('100'), 10000);
  assert.equal(parseAmount('100.5'), 10050);
  assert.equal(parseAmount('1e3'), null);
  assert.equal(parseAmount('-1.00'), null);
  for (const bad of ['100', '100.5', '1,000.00', '0.00', '', 100]) assert.equal(isWireAmount(bad), false, String(bad));
});

test('currencies: the seed list, each with its country; config refuses others', () => {
  assert.deepEqual([...PAG_CURRENCIES], ['KES', 'MWK', 'UGX', 'TZS', 'ZMW']);
  assert.deepEqual(COUNTRY_OF, { KES: 'KE', MWK: 'MW', UGX: 'UG', TZS: 'TZ', ZMW: 'ZM' });
  for (const cur of PAG_CURRENCIES) assert.equal(loadConfig({ PAG_CURRENCY: cur }).PAG_CURRENCY, cur);
  assert.throws(() => loadConfig({ PAG_CURRENCY: 'NGN' }), /PAG_CURRENCY/);
  assert.throws(() => loadConfig({ PAG_PUBLIC_ID: 'a/b' }), /PAG_PUBLIC_ID/);
});

test('customer_id: Kenyan numbers in any form → 2547…; other countries need +country form', () => {
  for (const p of ['0712345678', '+254712345678', '254712345678', '712345678']) assert.deepEqual(customerId(p, 'KES'), { ok: true, value: '254712345678' });
  assert.deepEqual(customerId('+265991234567', 'MWK'), { ok: true, value: '265991234567' });
  assert.equal(customerId('+265991234567', 'KES').ok, false);
  assert.equal(customerId('0991234567x', 'MWK').ok, false);
});

test('order_id: valid references pass unchanged; others map deterministically within 128 chars', () => {
  assert.equal(pagOrderId('chk:abc-1.2_3'), 'chk:abc-1.2_3');
  const long = 'x'.repeat(128);
  assert.equal(pagOrderId(long), long);
  const mapped = pagOrderId('x'.repeat(200));
  assert.ok(mapped.length <= 128);
  assert.match(mapped, /^[A-Za-z0-9_:.-]+$/);
  assert.equal(pagOrderId('a b'), pagOrderId('a b'));
  assert.notEqual(pagOrderId('a b'), pagOrderId('a/b'));
  assert.match(pagOrderId('a b'), /^a_b\.h[0-9a-f]{32}$/);
});

test('status codes → results: -1 unknown, 0 accepted, 1 pending, 2 succeeded, 3 failed, 4 cancelled, 8 data required', () => {
  const reply = (status: number, extra: Record<string, unknown> = {}) => ({
    order_id: 'o',
    transaction_id: 't1',
    status,
    result: { code: 0, message: 'OK' },
    provider_result: { code: 0, message: 'p' },
    ...extra,
  });
  assert.equal(toResult(reply(-1), 'r').kind, 'unknown');
  assert.equal(toResult(reply(0), 'r').kind, 'accepted');
  const p = toResult(reply(1), 'r');
  assert.equal(p.kind, 'pending');
  assert.equal(p.kind === 'pending' && p.gatewayRef, 't1');
  assert.equal(toResult(reply(2, { transaction_ref: 'MP.1' }), 'r').kind, 'succeeded');
  const f = toResult(reply(3), 'r');
  assert.equal(f.kind === 'failed' && f.error.code, 'PAG_FAILED');
  const c = toResult(reply(4), 'r');
  assert.equal(c.kind === 'failed' && c.error.code, 'PAG_CANCELLED');
  assert.equal(c.kind === 'failed' && c.error.userMessage.sw, 'Malipo yameghairiwa.');
  const d = toResult(reply(8, { result: { code: 0, message: 'request error' } }), 'r');
  assert.equal(d.kind, 'accepted');
  assert.match(d.kind === 'accepted' ? (d.message ?? '') : '', /data required/);
  // a non-zero result.code is a failure whatever the status says (except 8)
  const rc = toResult(reply(1, { result: { code: 7, message: 'nope' } }), 'r');
  assert.equal(rc.kind === 'failed' && rc.error.code, 'PAG_RESULT_7');
  // confirm_type non-zero on a payout: the confirmation step is due, not "pending"
  const conf = toResult(reply(1, { confirm_type: 2 }), 'r');
  assert.equal(conf.kind, 'accepted');
  assert.match(conf.kind === 'accepted' ? (conf.message ?? '') : '', /confirm_type 2/);
  // updates
  assert.equal(toUpdate(reply(2), 'r').status, 'succeeded');
  assert.equal(toUpdate(reply(4), 'r').status, 'cancelled');
  assert.equal(toUpdate(reply(-1), 'r').status, 'pending');
  assert.equal(toUpdate(reply(8), 'r').status, 'pending');
  // A callback without `status` (the documented sample) says nothing about the payment:
  // result.code 0 only means the request was understood. It is "pending" until STATUS answers.
  assert.equal(toUpdate({ order_id: 'o', transaction_id: 't', result: { code: 0 } }, 'r').status, 'pending');
  assert.equal(toUpdate({ order_id: 'o', transaction_id: 't', result: { code: 5 } }, 'r').status, 'pending');
});
