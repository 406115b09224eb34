// Random bytes for ids made on the hot path. crypto.randomBytes(8) is a system call per id
// (4.5 µs each measured here, on every new USSD session); filling 4 KiB at once and handing out
// slices costs that once per 512 ids. The bytes are the same CSPRNG's; a slice is never reused.
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let at = POOL.length;

/** `n` (≤ 64) fresh random bytes, base64url-encoded. */
export function randomId(n: number): string {
  if (at + n > POOL.length) {
    randomFillSync(POOL);
    at = 0;
  }
  const s = POOL.toString('base64url', at, at + n);
  at += n;
  return s;
}
