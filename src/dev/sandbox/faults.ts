// POST /sandbox/_faults (docs/sandbox.md): injected slowness, errors and outages,
// and the checkout scenarios money-safety tests need (short payment, a lying IPN, a reversal,
// unsigned IPNs). Only the keys given change; `null` (or count 0) clears one.
import { isPlatformErrorCode } from './codes.js';

export interface FailNext {
  code: string;
  count: number;
  path?: string;
}

export interface Faults {
  latencyMs: number;
  /** Rules in the order given; a request uses the first whose path matches. */
  failNext: FailNext[];
  down: boolean;
  /** The next `count` checkouts complete with `amount` (KES, as the wire carries it) paid. */
  checkoutPaid: { amount: string; count: number } | null;
  /** The next `count` checkouts complete paid from another phone and/or in another currency. */
  checkoutPaidAs: { payer?: string; currency?: string; count: number } | null;
  /** The next `count` checkouts: a Success IPN while the status lookup says Pending, then Failed. */
  ipnSaysSuccessButFails: { count: number } | null;
  /**
   * The next `count` checkouts succeed, then are reversed `afterMs` later (payment.reversed), or
   * with status "Failed" reported failed after their success (payment.failed).
   */
  checkoutReversal: { count: number; afterMs?: number; status?: 'Reversed' | 'Failed' } | null;
  /** IPNs and webhook events go out without a signature header while true. */
  unsignedIpn: boolean;
}

export function noFaults(): Faults {
  return {
    latencyMs: 0,
    failNext: [],
    down: false,
    checkoutPaid: null,
    checkoutPaidAs: null,
    ipnSaysSuccessButFails: null,
    checkoutReversal: null,
    unsignedIpn: false,
  };
}

/** A failNext code is a platform error code ("1105") or an HTTP error status ("429", "500"). */
function validCode(code: string): boolean {
  if (isPlatformErrorCode(code)) return true;
  return /^[45]\d\d$/.test(code);
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function count(v: unknown, what: string): Parsed<number> {
  const c = v === undefined ? 1 : v;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) return { ok: false, error: `${what}.count must be a non-negative integer` };
  return { ok: true, value: c };
}

function object(v: unknown, what: string): Parsed<Record<string, unknown>> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, error: `${what} must be an object or null` };
  return { ok: true, value: v as Record<string, unknown> };
}

function failRule(v: unknown, what: string): Parsed<FailNext | null> {
  const o = object(v, what);
  if (!o.ok) return o;
  const code = typeof o.value.code === 'number' ? String(o.value.code) : o.value.code;
  if (typeof code !== 'string' || !validCode(code)) return { ok: false, error: `${what}.code must be a platform error code or an HTTP 4xx/5xx status` };
  const n = count(o.value.count, what);
  if (!n.ok) return n;
  const path = o.value.path;
  if (path !== undefined && path !== null && typeof path !== 'string') return { ok: false, error: `${what}.path must be a string` };
  return { ok: true, value: n.value === 0 ? null : { code, count: n.value, ...(path ? { path } : {}) } };
}

/** "1500", "49.50" or a number: KES as the IPN's `Amount` carries it. */
function kesAmount(v: unknown): string | null {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : '';
  return /^\d{1,12}(\.\d{1,2})?$/.test(s) && Number(s) > 0 ? s : null;
}

/** Applies a _faults body onto the current faults; only the keys given change. */
export function applyFaults(cur: Faults, body: unknown): { ok: true; faults: Faults } | { ok: false; error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'body must be an object' };
  const b = body as Record<string, unknown>;
  const next: Faults = { ...cur, failNext: [...cur.failNext] };
  if ('latencyMs' in b) {
    const v = b.latencyMs;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 120_000) return { ok: false, error: 'latencyMs must be an integer 0..120000' };
    next.latencyMs = v;
  }
  if ('down' in b) {
    if (typeof b.down !== 'boolean') return { ok: false, error: 'down must be a boolean' };
    next.down = b.down;
  }
  if ('unsignedIpn' in b) {
    if (typeof b.unsignedIpn !== 'boolean') return { ok: false, error: 'unsignedIpn must be a boolean' };
    next.unsignedIpn = b.unsignedIpn;
  }
  if ('failNext' in b) {
    // One rule, a list of rules, or null / [] to clear: the given rules replace the current ones.
    const list = b.failNext === null ? [] : Array.isArray(b.failNext) ? b.failNext : [b.failNext];
    const rules: FailNext[] = [];
    for (const [i, r] of list.entries()) {
      const parsed = failRule(r, Array.isArray(b.failNext) ? `failNext[${i}]` : 'failNext');
      if (!parsed.ok) return parsed;
      if (parsed.value) rules.push(parsed.value);
    }
    next.failNext = rules;
  }
  if ('checkoutPaid' in b) {
    if (b.checkoutPaid === null) next.checkoutPaid = null;
    else {
      const o = object(b.checkoutPaid, 'checkoutPaid');
      if (!o.ok) return o;
      const amount = kesAmount(o.value.amount);
      if (amount === null) return { ok: false, error: 'checkoutPaid.amount must be a positive KES amount such as 50 or "49.50"' };
      const n = count(o.value.count, 'checkoutPaid');
      if (!n.ok) return n;
      next.checkoutPaid = n.value === 0 ? null : { amount, count: n.value };
    }
  }
  if ('checkoutPaidAs' in b) {
    if (b.checkoutPaidAs === null) next.checkoutPaidAs = null;
    else {
      const o = object(b.checkoutPaidAs, 'checkoutPaidAs');
      if (!o.ok) return o;
      const { payer, currency } = o.value;
      if (payer !== undefined && (typeof payer !== 'string' || !/^\+?\d{9,15}$/.test(payer)))
        return { ok: false, error: 'checkoutPaidAs.payer must be a phone number' };
      if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)))
        return { ok: false, error: 'checkoutPaidAs.currency must be an ISO 4217 code such as UGX' };
      if (payer === undefined && currency === undefined) return { ok: false, error: 'checkoutPaidAs needs payer or currency' };
      const n = count(o.value.count, 'checkoutPaidAs');
      if (!n.ok) return n;
      next.checkoutPaidAs =
        n.value === 0 ? null : { ...(payer !== undefined ? { payer } : {}), ...(currency !== undefined ? { currency } : {}), count: n.value };
    }
  }
  if ('ipnSaysSuccessButFails' in b) {
    if (b.ipnSaysSuccessButFails === null) next.ipnSaysSuccessButFails = null;
    else {
      const o = object(b.ipnSaysSuccessButFails, 'ipnSaysSuccessButFails');
      if (!o.ok) return o;
      const n = count(o.value.count, 'ipnSaysSuccessButFails');
      if (!n.ok) return n;
      next.ipnSaysSuccessButFails = n.value === 0 ? null : { count: n.value };
    }
  }
  if ('checkoutReversal' in b) {
    if (b.checkoutReversal === null) next.checkoutReversal = null;
    else {
      const o = object(b.checkoutReversal, 'checkoutReversal');
      if (!o.ok) return o;
      const n = count(o.value.count, 'checkoutReversal');
      if (!n.ok) return n;
      const after = o.value.afterMs;
      if (after !== undefined && (typeof after !== 'number' || !Number.isInteger(after) || after < 0 || after > 600_000)) {
        return { ok: false, error: 'checkoutReversal.afterMs must be an integer 0..600000' };
      }
      const status = o.value.status;
      if (status !== undefined && status !== 'Reversed' && status !== 'Failed')
        return { ok: false, error: 'checkoutReversal.status must be "Reversed" or "Failed"' };
      next.checkoutReversal = n.value === 0 ? null : { count: n.value, ...(after !== undefined ? { afterMs: after } : {}), ...(status ? { status } : {}) };
    }
  }
  return { ok: true, faults: next };
}

/** Consumes one failNext use of the first rule whose path matches; returns the code to answer with. */
export function takeFailure(faults: Faults, path: string): string | null {
  const i = faults.failNext.findIndex((f) => f.count > 0 && (!f.path || path.includes(f.path)));
  if (i < 0) return null;
  const f = faults.failNext[i]!;
  f.count--;
  if (f.count <= 0) faults.failNext.splice(i, 1);
  return f.code;
}

/** What happens to one checkout, decided when it is accepted (each fault's count goes down by one). */
export interface CheckoutScenario {
  /** KES actually paid, when not the amount asked. */
  paidAmount?: string;
  /** Who paid (the record's `source`), when not the phone asked. */
  paidBy?: string;
  /** The record's `currency`, when a checkoutPaidAs fault sets one (otherwise none is shown). */
  paidCurrency?: string;
  /** A Success IPN first while the status says Pending; then Failed. */
  lyingIpn?: boolean;
  /** Reversed this long after its success. */
  reverseAfterMs?: number;
  /** What it turns into then: Reversed (default), or Failed (a failure after success). */
  reverseAs?: 'Reversed' | 'Failed';
}

export function takeCheckoutScenario(faults: Faults, defaultDelayMs: number): CheckoutScenario {
  const s: CheckoutScenario = {};
  if (faults.checkoutPaid) {
    s.paidAmount = faults.checkoutPaid.amount;
    if (--faults.checkoutPaid.count <= 0) faults.checkoutPaid = null;
  }
  if (faults.checkoutPaidAs) {
    if (faults.checkoutPaidAs.payer !== undefined) s.paidBy = faults.checkoutPaidAs.payer;
    if (faults.checkoutPaidAs.currency !== undefined) s.paidCurrency = faults.checkoutPaidAs.currency;
    if (--faults.checkoutPaidAs.count <= 0) faults.checkoutPaidAs = null;
  }
  if (faults.ipnSaysSuccessButFails) {
    s.lyingIpn = true;
    if (--faults.ipnSaysSuccessButFails.count <= 0) faults.ipnSaysSuccessButFails = null;
  }
  if (faults.checkoutReversal) {
    s.reverseAfterMs = faults.checkoutReversal.afterMs ?? defaultDelayMs;
    if (faults.checkoutReversal.status === 'Failed') s.reverseAs = 'Failed';
    if (--faults.checkoutReversal.count <= 0) faults.checkoutReversal = null;
  }
  return s;
}
