// IPN (callback) verification and parsing. Routing and exactly-once processing belong to the
// payments module; this only answers "is it genuine, and what does it say".
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TransactionUpdate } from '../types.js';
import { toTransactionUpdate } from './update.js';

export interface IpnConfig {
  /** GATEWAY_SIGNATURE_HEADER (the docs' "X-Kemru Technologies-Signature" is not a legal name). */
  header: string;
  /** GATEWAY_WEBHOOK_SECRET (defaults to GATEWAY_SECRET in config). */
  secret: string;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** HMAC-SHA256(raw body bytes) in lowercase hex, compared in constant time. */
export function verifyIpnSignature(headers: Record<string, string | string[] | undefined>, rawBody: string | Buffer, cfg: IpnConfig): boolean {
  const given = headerValue(headers, cfg.header)?.trim();
  if (!given || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const expected = createHmac('sha256', cfg.secret).update(rawBody).digest();
  const actual = Buffer.from(given, 'hex');
  // Both are 32 bytes here (checked above), which timingSafeEqual requires.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Parsed update, or null when the signature is wrong or the body is not a valid IPN. */
export function parseIpn(headers: Record<string, string | string[] | undefined>, rawBody: string | Buffer, cfg: IpnConfig): TransactionUpdate | null {
  if (!verifyIpnSignature(headers, rawBody, cfg)) return null;
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return null;
  }
  return toTransactionUpdate(json, json);
}
