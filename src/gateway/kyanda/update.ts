// One transaction record as the gateway reports it (IPN body, or `details` of a status/verify
// answer) → our TransactionUpdate. Shared so an IPN and a lookup can never disagree.
import type { TransactionUpdate } from '../types.js';

const STATUS: Record<string, TransactionUpdate['status']> = {
  success: 'succeeded',
  successful: 'succeeded',
  completed: 'succeeded',
  failed: 'failed',
  reversed: 'reversed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  // Seed 002 status reference: Success, Processing, Pending, Retry, Failed, Queued (Offline).
  pending: 'pending',
  processing: 'pending',
  queued: 'pending',
  retry: 'pending',
};

export function mapStatus(s: unknown): TransactionUpdate['status'] | undefined {
  return typeof s === 'string' ? STATUS[s.trim().toLowerCase()] : undefined;
}

/** "1500" / 1500 / "1500.50" KES → minor units; anything else → undefined. */
export function kesToMinor(v: unknown): number | undefined {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim().replace(/,/g, '') : '';
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return undefined;
  const [whole, frac = ''] = s.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function flatDetails(d: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (d && typeof d === 'object' && !Array.isArray(d)) {
    for (const [k, val] of Object.entries(d)) {
      const s = str(val) ?? (typeof val === 'boolean' ? String(val) : undefined);
      if (s !== undefined) out[k] = s;
    }
  }
  return out;
}

/** Webhook events whose record may carry no status of its own. */
const EVENT_STATUS: Record<string, TransactionUpdate['status']> = {
  'payment.success': 'succeeded',
  'payment.failed': 'failed',
  'payment.reversed': 'reversed',
  'checkout.initiated': 'pending',
  'airtime.delivered': 'succeeded',
  'sms.delivered': 'succeeded',
};

/** null when the record has no transaction reference or an unknown status. */
export function toTransactionUpdate(rec: unknown, raw: unknown, fallbackRef?: string, event?: string): TransactionUpdate | null {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return null;
  const r = rec as Record<string, unknown>;
  // A reversal reported as an event is a reversal, whatever the record's own status field says.
  const status = (event === 'payment.reversed' ? 'reversed' : undefined) ?? mapStatus(r.status) ?? (event ? EVENT_STATUS[event] : undefined);
  const gatewayRef = str(r.transactionRef) ?? str(r.merchant_reference) ?? str(r.transactionId) ?? fallbackRef;
  if (!status || !gatewayRef) return null;
  const meta = (r.requestMetadata ?? r.metadata) as Record<string, unknown> | undefined;
  const reference = meta && typeof meta === 'object' ? str(meta.reference) : undefined;
  const amountMinor = kesToMinor(r.Amount ?? r.amount);
  const update: TransactionUpdate = {
    gateway: 'kyanda',
    gatewayRef,
    status,
    code: str(r.status_code) ?? (status === 'succeeded' ? '0000' : ''),
    message: str(r.message) ?? str(r.transactiontxt) ?? '',
    details: flatDetails(r.details),
    raw,
  };
  if (reference !== undefined) update.reference = reference;
  if (amountMinor !== undefined) update.amountMinor = amountMinor;
  const category = str(r.category);
  if (category !== undefined) update.category = category;
  const source = str(r.source);
  if (source !== undefined) update.source = source;
  const destination = str(r.destination);
  if (destination !== undefined) update.destination = destination;
  // The documents show no currency (KES is implied); a record that names one is compared with the order.
  const currency = str(r.currency ?? r.Currency);
  if (currency !== undefined) update.currency = currency;
  return update;
}
