// Reading request fields the way the Kyanda-family gateway does: values are the exact strings
// sent on the wire, and each phone field has one accepted format (KYANDA-WIRE.md).
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

/** Missing optional values concatenate as "" (KYANDA-WIRE.md). */
export function signingString(body: Body, order: readonly string[]): string {
  return order.map((p) => text(body, p) ?? '').join('');
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

/** "07…"/"01…" 10 digits: the docs' "beginning with 07, 10 digits" plus Safaricom's 011x range. */
export const NATIONAL_PHONE = /^0[17]\d{8}$/;
export const E164_PHONE = /^\+254[17]\d{8}$/;

export function checkPhone(body: Body, path: string, format: 'national' | 'e164', code: string): string {
  const v = text(body, path) ?? '';
  const ok = format === 'national' ? NATIONAL_PHONE.test(v) : E164_PHONE.test(v);
  if (!ok) throw new SandboxError(code, `${path} must be ${format === 'national' ? '07XXXXXXXX' : '+2547XXXXXXXX'}`);
  return v;
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

export function e164FromNational(national: string): string {
  return `+254${national.slice(1)}`;
}
