// Agent PINs: scrypt with a per-PIN salt, compared in constant time. A 4-digit PIN has only
// 10,000 values, so the lockout (store.ts) is what really protects it; scrypt keeps a leaked
// record from being read at a glance and costs an attacker per guess.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

const N = 16384; // 2^14: ~25 ms and 16 MB per hash on this class of machine
const KEYLEN = 32;

function scrypt(pin: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(pin, salt, KEYLEN, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export const PIN_RE = /^\d{4}$/;

/** "scrypt$N$salt$hash" (base64). */
export async function hashPin(pin: string): Promise<string> {
  if (!PIN_RE.test(pin)) throw new Error('PIN must be 4 digits');
  const salt = randomBytes(16);
  const key = await scrypt(pin, salt);
  return `scrypt$${N}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const [alg, n, saltB64, keyB64] = stored.split('$');
  if (alg !== 'scrypt' || Number(n) !== N || !saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64');
  // Hash even malformed input so a wrong-format PIN costs the same time as a wrong PIN.
  const actual = await scrypt(PIN_RE.test(pin) ? pin : '', Buffer.from(saltB64, 'base64'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
