// Reading request fields the way the Kyanda-family gateway does: values are the exact strings
// sent on the wire (the signature is checked over them as received), and a phone field takes
// every form the documents show (docs/gateways.md, "Phone numbers").
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SandboxError } from './codes.js';

export type Body = Record<string, unknown>;

/** Value at a dotted path ("destination.amount"). */
export function at(body: Body, path: string): unknown {
  let cur: unknown = body;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The wire string of a scalar field; numbers are accepted as their decimal text. */
export function text(body: Body, path: string): string | undefined {
  const v = at(body, path);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function present(body: Body, path: string): boolean {
  const v = at(body, path);
  return v !== undefined && v !== null && v !== '';
}

export function hmacHex(payload: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** Constant-time comparison of two hex digests (case-insensitive). */
export function sameHex(a: string, b: string): boolean {
  return sameSecret(a.toLowerCase(), b.toLowerCase());
}

/** Constant-time string comparison (apiKey, signatures). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The four forms the documents show for a Kenyan mobile number: 07…/01… (10 digits), 2547…/2541…
 * and +2547…/+2541…. Safaricom's 011x range is why 01… counts (docs/gateways.md, "Phone numbers").
 */
export const KENYAN_MOBILE = /^(?:0|254|\+254)([17]\d{8})$/;

/** The number as received, checked to be one of the documented forms; `code` otherwise. */
export function checkPhone(body: Body, path: string, code: string): string {
  const v = text(body, path) ?? '';
  if (!KENYAN_MOBILE.test(v)) throw new SandboxError(code, `${path} must be a Kenyan mobile number: 07XXXXXXXX, 01XXXXXXXX, 2547XXXXXXXX or +2547XXXXXXXX`);
  return v;
}

/** +2547… for any accepted form (the SMS log keeps E.164). */
export function e164(phone: string): string {
  const m = KENYAN_MOBILE.exec(phone);
  return m ? `+254${m[1]}` : phone;
}

/** Whole KES as a decimal string without separators; anything else is `badCode`. */
export function checkAmount(body: Body, path: string, badCode: string): number {
  const v = text(body, path) ?? '';
  if (!/^[1-9]\d{0,11}$/.test(v)) throw new SandboxError(badCode, `${path} must be whole KES like "1500"`);
  return Number(v);
}

export function checkOneOf(body: Body, path: string, allowed: readonly string[], code: string): string {
  const v = text(body, path) ?? '';
  if (!allowed.includes(v)) throw new SandboxError(code, `${path} not one of ${allowed.join(', ')}`);
  return v;
}
