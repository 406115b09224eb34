// Does a payment the gateway confirmed match the order? Amount, currency and payer must all
// agree before anything is vended (docs/architecture.md, "The life of a purchase"). A payment
// that does not match is never fulfilled: it goes to a person, and an underpayment is refunded.
import type { TransactionUpdate } from '../gateway/types.js';
import { parsePhone } from '../lib/phone.js';
import type { Order } from './types.js';

export type PaymentCheck =
  { ok: true; paidMinor: number } | { ok: false; reason: string; code: 'AMOUNT_MISSING' | 'UNDERPAID' | 'OVERPAID' | 'CURRENCY' | 'PAYER'; paidMinor?: number };

/** The order's currency: every menu price is in Kenya shillings. */
export const ORDER_CURRENCY = 'KES';

const kes = (minor: number) => (minor / 100).toFixed(2);

/**
 * `amountBound`: the gateway's status does not repeat the amount, and a payment under our
 * reference is for what we asked (GatewayCapabilities.amountBoundToReference).
 */
export function checkPayment(order: Order, u: TransactionUpdate, amountBound = false): PaymentCheck {
  if (u.currency && u.currency.toUpperCase() !== ORDER_CURRENCY) {
    return { ok: false, code: 'CURRENCY', reason: `paid in ${u.currency}, the order is in ${ORDER_CURRENCY}` };
  }
  const paid = u.amountMinor ?? (amountBound ? order.amountMinor : undefined);
  if (paid === undefined) return { ok: false, code: 'AMOUNT_MISSING', reason: 'the gateway did not say how much was paid' };
  // The payer, where the gateway names one as a phone number (a wallet name is not a phone).
  const payer = u.source ? parsePhone(u.source) : undefined;
  if (payer?.ok) {
    const ours = parsePhone(order.phone);
    if (ours.ok && ours.e164 !== payer.e164) return { ok: false, code: 'PAYER', reason: 'paid from another phone than the one that ordered', paidMinor: paid };
  }
  if (paid < order.amountMinor) return { ok: false, code: 'UNDERPAID', reason: `paid KES ${kes(paid)} of KES ${kes(order.amountMinor)}`, paidMinor: paid };
  if (paid > order.amountMinor)
    return { ok: false, code: 'OVERPAID', reason: `paid KES ${kes(paid)} for an order of KES ${kes(order.amountMinor)}`, paidMinor: paid };
  return { ok: true, paidMinor: paid };
}
