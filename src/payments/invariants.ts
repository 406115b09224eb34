// The promise of the money flows, checked over every order and the gateway's ledger:
// - paid (a payment the gateway's lookup confirmed, matching the order or not) ⇒ exactly one of
//   fulfilled / refunded / needs_attention (or closed by a person after that): never stuck;
// - a payment counts only once the gateway's status lookup confirmed it;
// - at most one vend per order in the ledger, and no vend without a confirmed payment or an
//   agent's PIN;
// - no refund without a payment.
// Used by the tests after every fault scenario; usable against any ledger of the same shape.
import { parseRef } from './ids.js';
import type { OrderStore } from './order-store.js';
import type { HistoryEntry, Order } from './types.js';

export interface LedgerLike {
  endpoint: string;
  reference?: string;
  status?: string;
  ref?: string;
}

/** Ledger endpoints that hand out value (the sandbox's names). */
export const VEND_ENDPOINTS = new Set(['airtime', 'pin-airtime', 'bill', 'b2b', 'upi', 'bank-payout']);
export const REFUND_ENDPOINTS = new Set(['mobile-payout']);

export const PIN_CAUSE = 'agent PIN verified';
/** How every move to `paid` begins: only the gateway's status lookup confirms a payment. */
export const PAID_CAUSE = "payment confirmed by the gateway's status lookup";

export async function checkInvariants(store: OrderStore, ledger: LedgerLike[], opts: { settled?: boolean } = {}): Promise<string[]> {
  const problems: string[] = [];
  const orders = new Map<string, { order: Order; history: HistoryEntry[] }>();
  for (const id of await store.ids()) {
    const order = await store.get(id);
    if (order) orders.set(id, { order, history: await store.history(id) });
  }
  const vends = new Map<string, number>();
  const refunds = new Map<string, number>();
  for (const e of ledger) {
    const isVend = VEND_ENDPOINTS.has(e.endpoint);
    const isRefund = REFUND_ENDPOINTS.has(e.endpoint);
    if (!isVend && !isRefund) continue;
    const target = parseRef(e.reference);
    if (!target) {
      problems.push(`ledger ${e.endpoint} ${e.ref ?? ''} has no order reference`);
      continue;
    }
    const rec = orders.get(target.orderId);
    if (!rec) {
      problems.push(`ledger ${e.endpoint} for unknown order ${target.orderId}`);
      continue;
    }
    if (isVend) {
      vends.set(target.orderId, (vends.get(target.orderId) ?? 0) + 1);
      const paid = rec.history.some((h) => h.to === 'paid');
      const pin = rec.order.pay === 'float' && rec.history.some((h) => h.cause.startsWith(PIN_CAUSE));
      if (!paid && !pin) problems.push(`order ${target.orderId}: vend without payment or PIN`);
    } else {
      refunds.set(target.orderId, (refunds.get(target.orderId) ?? 0) + 1);
    }
  }
  for (const [id, n] of vends) if (n > 1) problems.push(`order ${id}: ${n} vends in the ledger`);
  for (const [id, { order, history }] of orders) {
    // Moves into paid; a note recorded while paid (from paid to paid) is none.
    const paidMoves = history.filter((h) => h.to === 'paid' && h.from !== 'paid');
    // Money in: a move to paid, or a payment the lookup confirmed that did not match the order.
    const paid = paidMoves.length > 0 || history.some((h) => h.cause.startsWith(PAID_CAUSE));
    for (const h of paidMoves) {
      if (!h.cause.startsWith(PAID_CAUSE) && h.from !== 'needs_attention') problems.push(`order ${id}: paid without the gateway's status lookup (${h.cause})`);
    }
    const fulfilled = history.some((h) => h.to === 'fulfilled');
    const refunded = history.some((h) => h.to === 'refunded');
    if (fulfilled && refunded) problems.push(`order ${id}: both fulfilled and refunded`);
    const parked = order.state === 'needs_attention' || order.state === 'closed';
    if (paid && opts.settled !== false && !fulfilled && !refunded && !parked) problems.push(`order ${id}: paid but ${order.state}`);
    if (refunded && (vends.get(id) ?? 0) > 0 && order.kind !== 'merchant') {
      // A refund after a vend that the ledger shows as taken would pay twice.
      const vendOk = history.some((h) => /fulfil succeeded/.test(h.cause));
      if (vendOk) problems.push(`order ${id}: refunded after a successful vend`);
    }
    if ((refunds.get(id) ?? 0) > 0 && !paid) problems.push(`order ${id}: refund without payment`);
  }
  return problems;
}
