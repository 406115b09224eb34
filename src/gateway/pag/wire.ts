// Field formats of the 5.7.3 wire: order_id, amounts, currencies/countries, customer phone.
import { createHash } from 'node:crypto';
import { parsePhone } from '../../lib/phone.js';

export const PAG_CURRENCIES = ['KES', 'MWK', 'UGX', 'TZS', 'ZMW'] as const;
export type PagCurrency = (typeof PAG_CURRENCIES)[number];

/** ISO 3166-1 alpha-2 sent as `country` (optional on the wire; the documented samples send it). */
export const COUNTRY_OF: Record<PagCurrency, string> = { KES: 'KE', MWK: 'MW', UGX: 'UG', TZS: 'TZ', ZMW: 'ZM' };

/** The documented status codes (docs/gateways.md, "5.7.3 status codes"; 8 comes from the Universal Flow Guide). */
export const PAG_STATUS = { UNDEFINED: -1, INITIATED: 0, IN_PROGRESS: 1, SUCCESS: 2, FAILED: 3, CANCELLED: 4, DATA_REQUIRED: 8 } as const;

/** The documented test-environment simulator: answers "in progress" and never completes. */
export const SIMULATOR_PROVIDER = 14;
/** Sandbox-only: completes after SANDBOX_CHECKOUT_DELAY_MS and sends a signed callback. */
export const SANDBOX_COMPLETING_PROVIDER = 40;

export interface DocumentedProvider {
  name: string;
  country: string;
  currency: PagCurrency | 'ANY';
}

/**
 * Every provider the 5.7.3 documentation lists, with the currency of its country
 * (docs/gateways.md, "5.7.3 providers and currencies"). None is listed for KES or UGX: a Kenyan
 * deployment names its provider explicitly and the start-up check cannot verify the pair.
 */
export const DOCUMENTED_PROVIDERS: Readonly<Record<number, DocumentedProvider>> = {
  14: { name: 'Simulator', country: 'any', currency: 'ANY' },
  2087: { name: 'Airtel', country: 'Malawi', currency: 'MWK' },
  2088: { name: 'TNM', country: 'Malawi', currency: 'MWK' },
  2107: { name: 'Airtel', country: 'Tanzania', currency: 'TZS' },
  2114: { name: 'Airtel', country: 'Tanzania', currency: 'TZS' },
  2108: { name: 'HaloPesa', country: 'Tanzania', currency: 'TZS' },
  2113: { name: 'HaloPesa', country: 'Tanzania', currency: 'TZS' },
  2109: { name: 'Tigo', country: 'Tanzania', currency: 'TZS' },
  2111: { name: 'Tigo', country: 'Tanzania', currency: 'TZS' },
  2110: { name: 'Vodacom', country: 'Tanzania', currency: 'TZS' },
  2112: { name: 'Vodacom', country: 'Tanzania', currency: 'TZS' },
  2118: { name: 'Airtel', country: 'Zambia', currency: 'ZMW' },
  2119: { name: 'MTN', country: 'Zambia', currency: 'ZMW' },
};

const ORDER_ID_OK = /^[A-Za-z0-9_:.-]{1,128}$/;

/**
 * order_id is our idempotency key (CallOptions.reference). A valid reference is used as is; any
 * other is mapped deterministically (bad characters → "_", then ".h" + 32 hex of its SHA-256,
 * so two references that differ only in bad characters still get different order ids).
 */
export function pagOrderId(reference: string): string {
  if (ORDER_ID_OK.test(reference)) return reference;
  const clean = reference.replace(/[^A-Za-z0-9_:.-]/g, '_').slice(0, 94);
  return `${clean}.h${createHash('sha256').update(reference).digest('hex').slice(0, 32)}`;
}

export function isValidOrderId(v: unknown): v is string {
  return typeof v === 'string' && ORDER_ID_OK.test(v);
}

/**
 * Minor units → "100.00". Every currency on this gateway is sent with two decimals ("two digits after
 * point", docs/gateways.md "Payment API Gateway 5.7.3"), so amountMinor is hundredths of the unit
 * for all five, UGX included.
 */
export function formatAmount(amountMinor: number): string {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new RangeError(`amount must be a positive integer of minor units, got ${amountMinor}`);
  return `${Math.floor(amountMinor / 100)}.${String(amountMinor % 100).padStart(2, '0')}`;
}

/** "100.00" / "100" / "100.5" → minor units; null when it is not a plain decimal amount. */
export function parseAmount(v: unknown): number | null {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

/** True for exactly two decimals, as the wire requires. */
export function isWireAmount(v: unknown): v is string {
  return typeof v === 'string' && /^\d{1,13}\.\d{2}$/.test(v) && parseAmount(v)! > 0;
}

/**
 * customer_id: digits with the country code ("254712345678"). Kenyan numbers in any form go
 * through parsePhone; for the other countries (currencies) an international "+…" number is
 * accepted as its digits, since parsePhone only knows Kenya.
 */
export function customerId(phone: string, currency: PagCurrency): { ok: true; value: string } | { ok: false; reason: string } {
  const p = parsePhone(phone);
  if (p.ok) return { ok: true, value: p.msisdn };
  const digits = phone.trim().replace(/[\s().-]/g, '');
  if (currency !== 'KES' && /^\+[1-9]\d{7,14}$/.test(digits)) return { ok: true, value: digits.slice(1) };
  return { ok: false, reason: p.reason };
}
