// The 5.7.3 gateway's request/callback signature, byte-for-byte what the gateway's PHP reference
// (calculateSignature, docs/gateways.md "5.7.3 signature") computes on the json_decode($body, true) of the same JSON:
//   walk keys in order, skip the key "signature" at every level, nested arrays/objects become
//   "prefix.key" keys (list items "prefix.0"…), concatenate fullKey . (string)value, depth limit
//   16 ("Too deep"), HMAC-SHA512 with the secret, lowercase hex.
// test/gateway/pag/signature.test.ts runs the PHP function itself against this one.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { JsonNumber, OrderedObject } from './ordered-json.js';

export const MAX_DEPTH = 16;

export class SignatureDepthError extends Error {
  override readonly name = 'SignatureDepthError';
  constructor() {
    super('Too deep');
  }
}

/**
 * PHP's (string)$float with the default precision=14 (zend_gcvt): 14 significant digits,
 * trailing zeros dropped, exponent form "1.0E+15" / "1.0E-5" outside 1e-4 ≤ |x| < 1e15.
 */
export function phpFloatString(v: number): string {
  if (Number.isNaN(v)) return 'NAN';
  if (!Number.isFinite(v)) return v > 0 ? 'INF' : '-INF';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(v).toExponential(13).split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  const decpt = Number(expStr) + 1; // position of the decimal point relative to the digits
  if (decpt < -3 || decpt > 14) {
    const e = decpt - 1;
    return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${e < 0 ? '-' : '+'}${Math.abs(e)}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (digits.length <= decpt) return sign + digits + '0'.repeat(decpt - digits.length);
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/**
 * PHP's string conversion of a json_decode'd scalar. true → "1", false/null → "".
 * A JSON integer is a PHP int (printed exactly); a JSON number with a fraction or exponent is
 * a float. A parsed JS number cannot tell 1 from 1.0, so safe integers print as ints (what PHP
 * does for every integer literal within ±2^53) and anything else as a PHP float; bodies parsed
 * with parseOrdered keep the literal (JsonNumber) and match PHP exactly.
 */
export function phpString(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v === true) return '1';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : phpFloatString(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof JsonNumber) return v.isPhpInt ? BigInt(v.raw).toString() : phpFloatString(Number(v.raw));
  return String(v);
}

function entriesOf(v: unknown): Array<[string, unknown]> | null {
  if (v instanceof OrderedObject) return v.entries;
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
  if (v !== null && typeof v === 'object' && !(v instanceof JsonNumber)) return Object.entries(v as Record<string, unknown>);
  return null;
}

/** The string the PHP reference feeds to hash_hmac (exported for tests and debugging only). */
export function signatureBase(data: unknown, prefix = '', level = 0): string {
  if (level >= MAX_DEPTH) throw new SignatureDepthError();
  const entries = entriesOf(data);
  if (!entries) throw new TypeError('signature input must be an object or array');
  let out = '';
  for (const [key, value] of entries) {
    // JSON.stringify drops undefined members, so they are not part of what is sent either.
    if (key === 'signature' || value === undefined) continue;
    const fullKey = prefix + key;
    if (entriesOf(value)) out += signatureBase(value, `${fullKey}.`, level + 1);
    else out += fullKey + phpString(value);
  }
  return out;
}

/** Lowercase hex HMAC-SHA512 over signatureBase(data). */
export function pagSignature(data: unknown, secret: string): string {
  return createHmac('sha512', secret).update(signatureBase(data), 'utf8').digest('hex');
}

/** Returns data with its signature appended last (the position PHP's $postData['signature'] = … gives). */
export function signBody<T extends Record<string, unknown>>(data: T, secret: string): T & { signature: string } {
  const { signature: _ignored, ...rest } = data as T & { signature?: unknown };
  return { ...(rest as T), signature: pagSignature(rest, secret) };
}

/** Constant-time check of a body's `signature` field; false for anything malformed or too deep. */
export function verifySignature(data: unknown, given: unknown, secret: string): boolean {
  if (typeof given !== 'string' || !/^[0-9a-fA-F]{128}$/.test(given)) return false;
  let expected: Buffer;
  try {
    expected = createHmac('sha512', secret).update(signatureBase(data), 'utf8').digest();
  } catch {
    return false;
  }
  const actual = Buffer.from(given, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
