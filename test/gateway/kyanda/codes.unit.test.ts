// Every platform code the gateway's documentation names (restated in docs/gateways.md, "Platform
// codes") maps to a typed error with a stable code, the right retryable flag and handset-safe
// messages in English and Swahili.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { kyandaError, KYANDA_CODES } from '../../../src/gateway/kyanda/codes.js';
import { GatewayError } from '../../../src/gateway/types.js';

const SEED_CODES = [
  '0000',
  '1100',
  '1101',
  '1102',
  '1103',
  '1104',
  '1105',
  '1106',
  '1107',
  '1108',
  '1109',
  '1201',
  '5000',
  '6001',
  '6002',
  '7001',
  '8001',
  '8002',
  '8003',
  '8004',
  '8005',
  '8006',
  '9001',
  '9002',
  '9003',
  '9004',
  '9005',
];

test('the code list above is the table of docs/gateways.md, "Platform codes" (ranges spelled out)', () => {
  const doc = readFileSync('docs/gateways.md', 'utf8');
  const section = doc.slice(doc.indexOf('### Platform codes'), doc.indexOf('\n### ', doc.indexOf('### Platform codes') + 5));
  const listed = new Set<string>();
  for (const m of section.matchAll(/^\| (\d{4})(?:(–|\s\/\s)(\d{4}))? \|/gm)) {
    const from = Number(m[1]);
    const to = m[3] ? Number(m[3]) : from;
    if (m[2] === '–') for (let c = from; c <= to; c++) listed.add(String(c).padStart(4, '0'));
    else {
      listed.add(m[1]!);
      if (m[3]) listed.add(m[3]);
    }
  }
  assert.deepEqual([...listed].sort(), [...SEED_CODES].sort());
});

test('every documented code is mapped, with the retryable flag the docs imply', () => {
  for (const code of SEED_CODES) {
    assert.ok(KYANDA_CODES[code], code);
    const e = kyandaError(code, 'raw gateway text');
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, code);
    assert.equal(e.retryable, ['1105', '1106', '5000'].includes(code), `${code} retryable`);
  }
});

test('user messages fit a phone screen, are GSM-7 plain text, and never echo gateway text', () => {
  for (const code of [...SEED_CODES, 'TIMEOUT', 'UNCONFIRMED', 'NETWORK', 'RATE_LIMITED', 'BAD_RESPONSE', 'UNKNOWN_CODE']) {
    const e = kyandaError(code, 'SQLSTATE 42P01 secret stack');
    for (const m of [e.userMessage.en, e.userMessage.sw]) {
      assert.ok(m.length > 0 && m.length <= 60, `${code}: "${m}"`);
      assert.match(m, /^[A-Za-z0-9 .,:'!?()-]+$/, `${code}: "${m}" is plain`);
      assert.ok(!m.includes('SQLSTATE'));
    }
    assert.notEqual(e.userMessage.en, e.userMessage.sw, `${code} has a Swahili text`);
  }
});

test('an undocumented code is still a typed, non-retryable error', () => {
  const e = kyandaError('4242', 'weird');
  assert.equal(e.code, '4242');
  assert.equal(e.retryable, false);
  assert.ok(e.userMessage.en);
});

test('our own codes: a network failure and a rate limit are retryable; a timeout or unreadable answer is not (it may have acted)', () => {
  // Callers (payment steps, the bulk SMS worker, late SMS) act on this flag alone.
  for (const [code, retryable] of [
    ['NETWORK', true],
    ['RATE_LIMITED', true],
    ['TIMEOUT', false],
    ['UNCONFIRMED', false],
    ['BAD_RESPONSE', false],
    ['UNKNOWN_CODE', false],
  ] as const) {
    assert.equal(kyandaError(code).retryable, retryable, code);
  }
  assert.equal(kyandaError('RATE_LIMITED', 'HTTP 429', 429).retryable, true);
});
