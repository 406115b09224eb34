// The 5.7.3 signature against the 5.7.3 reference's own PHP function (test/fixtures/pag/signature.php).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pagSignature, signatureBase, signBody, verifySignature, phpFloatString, SignatureDepthError } from '../../../src/gateway/pag/signature.js';
import { parseOrdered } from '../../../src/gateway/pag/ordered-json.js';

const PHP_SCRIPT = fileURLToPath(new URL('../../fixtures/pag/signature.php', import.meta.url));
const SECRET = 'cf11635572-test-secret';

const nest = (n: number): unknown => (n === 0 ? { x: 1 } : { a: nest(n - 1) });

// Raw JSON texts: both sides decode the same bytes (PHP json_decode(…, true), ours parseOrdered).
const PAYLOADS: string[] = [
  // the seed's example $postData
  JSON.stringify({
    merchant_id: 'fffed61b...',
    provider_id: 10,
    client_id: '254000000000',
    country: 'KE',
    order_id: 'order_3444298767545',
    amount: 1000,
    currency: 'KES',
    callback_url: 'https://my.callback.url',
  }),
  // the seed's request sample, signature included (excluded from the hash)
  JSON.stringify({
    merchant_id: 'e0fecd91fcb24f348048193b3fb34875ba3722b4',
    customer_id: 900000001,
    customer_user_id: 'user-123456',
    order_id: '16280954971628095497',
    amount: '100.00',
    currency: 'KES',
    country: 'KE',
    callback_url: 'https://example.com/callback',
    provider_id: 14,
    signature: 'd7d6',
  }),
  // nested objects, lists, booleans, null, empty strings/containers, a nested "signature"
  JSON.stringify({
    order_id: 'O-1',
    extra: { phone: '254712345678', otp: '', flags: [true, false, null], deep: { signature: 'skip me', n: 0, list: [{ a: 1 }, { b: [] }, {}] } },
    t: true,
    f: false,
    z: null,
    e: '',
  }),
  // extra as a merchant sends it: save_card true (docs/gateways.md, "5.7.3 signature"), mixed types
  '{"merchant_id":"m","order_id":"card-1","amount":"100.00","extra":{"save_card":true,"remember":false,"note":null,"tries":3,"card":{"last4":"4242"}}}',
  // unicode and characters that need escaping
  JSON.stringify({ name: 'Wanjirũ Kamau 🙂', note: 'line\nbreak "quoted" \\ slash/ tab\t', sw: 'Malipo yamekamilika', cjk: '支付' }),
  // numbers: ints, negatives, floats PHP prints with precision 14, exponents
  '{"i":42,"neg":-7,"zero":0,"f":1.5,"third":0.3333333333333333,"small":0.00001,"tiny":2.5e-10,"big":1e15,"mid":123456.789,"pi":3.141592653589793,"huge":12345678901234567890,"minus":-0.5}',
  // integer-like keys out of order: PHP keeps the sent order, JSON.parse would not
  '{"b":1,"2":"two","1":"one","a":{"10":"x","9":"y"}}',
  // a list at the top level and duplicate keys
  '[{"k":"v"},"s",3]',
  '{"dup":"first","other":1,"dup":"last"}',
  // depth: level 15 is allowed, 16 is "Too deep"
  JSON.stringify(nest(15)),
  JSON.stringify(nest(16)),
];

function phpSignatures(): string[] | { skip: string } {
  const input = `{"secret":${JSON.stringify(SECRET)},"payloads":[${PAYLOADS.join(',')}]}`;
  const r = spawnSync('php', [PHP_SCRIPT], { input, encoding: 'utf8', timeout: 20_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
    return { skip: 'php not installed: apt-get install -y php-cli to compare with the seed reference' };
  assert.equal(r.status, 0, `php failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

function ours(raw: string): string {
  try {
    return pagSignature(parseOrdered(raw), SECRET);
  } catch (e) {
    return e instanceof SignatureDepthError ? `error: ${e.message}` : `crash: ${String(e)}`;
  }
}

test('signature equals the seed PHP calculateSignature on every payload', (t) => {
  const php = phpSignatures();
  if (!Array.isArray(php)) {
    t.skip(php.skip);
    console.log(`# skipped: ${php.skip}`);
    return;
  }
  assert.equal(php.length, PAYLOADS.length);
  for (const [i, raw] of PAYLOADS.entries()) assert.equal(ours(raw), php[i], `payload ${i}: ${raw.slice(0, 80)}`);
  // the depth cases really are one on each side of the limit
  assert.match(php[PAYLOADS.length - 2]!, /^[0-9a-f]{128}$/);
  assert.equal(php[PAYLOADS.length - 1], 'error: Too deep');
});

test('extra.save_card: true is signed as the PHP reference signs it ("1"), false and null as ""', () => {
  const base = signatureBase(parseOrdered('{"order_id":"o","extra":{"save_card":true,"remember":false,"note":null,"n":3}}'));
  assert.equal(base, 'order_idoextra.save_card1extra.rememberextra.noteextra.n3');
  // The same from a plain object (what signBody gets from our own code).
  assert.equal(signatureBase({ order_id: 'o', extra: { save_card: true, remember: false, note: null, n: 3 } }), base);
});

test('signature base string is fullKey.value in order, signature skipped, nested keys dotted', () => {
  const base = signatureBase(
    parseOrdered('{"merchant_id":"m","amount":"100.00","extra":{"phone":"2547","signature":"x","l":[1,true,false,null]},"signature":"zz"}'),
  );
  assert.equal(base, 'merchant_idmamount100.00extra.phone2547extra.l.01extra.l.11extra.l.2extra.l.3');
  const expected = createHmac('sha512', SECRET).update(base).digest('hex');
  assert.equal(
    pagSignature(parseOrdered('{"merchant_id":"m","amount":"100.00","extra":{"phone":"2547","signature":"x","l":[1,true,false,null]}}'), SECRET),
    expected,
  );
});

test('PHP float strings', () => {
  const cases: Array<[number, string]> = [
    [0.1, '0.1'],
    [0.1 + 0.2, '0.3'],
    [1e-5, '1.0E-5'],
    [1e-4, '0.0001'],
    [1e14, '100000000000000'],
    [1e15, '1.0E+15'],
    [1e100, '1.0E+100'],
    [-2.5, '-2.5'],
    [1 / 3, '0.33333333333333'],
    [2.5e-10, '2.5E-10'],
    [99999999999999.9, '1.0E+14'],
  ];
  // 1e14 is a safe integer and prints as one; phpFloatString is only used for non-integers.
  for (const [v, s] of cases) if (!Number.isSafeInteger(v)) assert.equal(phpFloatString(v), s, String(v));
});

test('signBody appends the signature last and verifySignature checks it in constant time', () => {
  const body = signBody({ merchant_id: 'm', order_id: 'o', amount: '1.00' }, SECRET);
  assert.deepEqual(Object.keys(body), ['merchant_id', 'order_id', 'amount', 'signature']);
  assert.ok(verifySignature(body, body.signature, SECRET));
  assert.equal(verifySignature({ ...body, amount: '2.00' }, body.signature, SECRET), false);
  assert.equal(verifySignature(body, body.signature, 'other-secret'), false);
  assert.equal(verifySignature(body, body.signature.slice(2), SECRET), false);
  assert.equal(verifySignature(body, undefined, SECRET), false);
  assert.equal(verifySignature(nest(20), body.signature, SECRET), false);
});
