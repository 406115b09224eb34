import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePhone, parsePhoneFast, telcoOf, formatPhone, NETWORK_CODES } from '../../src/lib/phone.js';

test('every Kenyan form of one number normalizes to the same E.164', () => {
  const forms = ['+254712345678', '254712345678', '0712345678', '712345678', '+254 712 345 678', '0712-345-678', '(0712) 345678', ' 0712345678 ', 254712345678];
  for (const f of forms) {
    const p = parsePhone(f);
    assert.ok(p.ok, `${f} should parse`);
    assert.equal(p.e164, '+254712345678');
    assert.equal(p.msisdn, '254712345678');
    assert.equal(p.national, '0712345678');
    assert.equal(p.telco, 'SAFARICOM');
  }
});

test('01xx numbers (the newer range) parse in every form', () => {
  for (const f of ['0110123456', '+254110123456', '254110123456', '110123456']) {
    const p = parsePhone(f);
    assert.ok(p.ok, f);
    assert.equal(p.national, '0110123456');
    assert.equal(p.telco, 'SAFARICOM');
  }
  const airtel = parsePhone('0100123456');
  assert.ok(airtel.ok);
  assert.equal(airtel.telco, 'AIRTEL');
});

test('invalid numbers are rejected with a reason', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['', /missing/],
    [undefined, /missing/],
    [null, /missing/],
    ['07123abc45', /not a number/],
    ['0712345', /invalid|short/],
    ['07123456789012', /invalid|long/],
    ['+14155550123', /not a Kenyan number/],
    ['+255712345678', /not a Kenyan number/],
    ['0202345678', /not a mobile number/],
    ['0800123456', /invalid|not a mobile/],
  ];
  for (const [input, reason] of cases) {
    const p = parsePhone(input);
    assert.equal(p.ok, false, `${String(input)} should be rejected`);
    if (!p.ok) assert.match(p.reason, reason, `${String(input)}: ${p.reason}`);
  }
});

test('telco detection by prefix', () => {
  const expect: Record<string, string> = {
    '0722000111': 'SAFARICOM',
    '0740000111': 'SAFARICOM',
    '0768000111': 'SAFARICOM',
    '0799000111': 'SAFARICOM',
    '0112000111': 'SAFARICOM',
    '0733000111': 'AIRTEL',
    '0750000111': 'AIRTEL',
    '0785000111': 'AIRTEL',
    '0101000111': 'AIRTEL',
    '0762000111': 'AIRTEL',
    '0770000111': 'TELKOM',
    '0779000111': 'TELKOM',
    '0763000111': 'EQUITEL',
    '0766000111': 'EQUITEL',
    '0747000111': 'FAIBA',
  };
  for (const [n, telco] of Object.entries(expect)) {
    const p = parsePhone(n);
    assert.ok(p.ok, n);
    assert.equal(p.telco, telco, n);
  }
  assert.equal(telcoOf('722000111'), 'SAFARICOM');
  assert.equal(telcoOf('999000111'), 'OTHER');
  assert.equal(NETWORK_CODES['63902'], 'SAFARICOM');
});

test('formatPhone gives each gateway field its form', () => {
  const p = parsePhone('0712345678');
  assert.ok(p.ok);
  assert.equal(formatPhone(p, 'e164'), '+254712345678');
  assert.equal(formatPhone(p, 'national'), '0712345678');
  assert.equal(formatPhone(p, 'msisdn'), '254712345678');
});

test('parsePhoneFast answers exactly like parsePhone', () => {
  const inputs: unknown[] = ['0712 345 678', '+254-712-345678', 'abc', '', 12345, '+14155550123', '0202345678'];
  // Every 4-digit prefix of both leading digits, each with a few random tails and every form.
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  for (const lead of ['1', '7', '2', '4', '8']) {
    for (let p = 0; p < 1000; p += 7) {
      const tail = String(rnd() % 100000).padStart(5, '0');
      const nsn = `${lead}${String(p).padStart(3, '0')}${tail}`;
      inputs.push(`0${nsn}`, `+254${nsn}`, `254${nsn}`, nsn);
    }
  }
  for (const x of inputs) assert.deepEqual(parsePhoneFast(x), parsePhone(x), String(x));
});
