// An order: one thing a subscriber buys, from the confirming USSD screen to its last SMS.
import type { Biller } from '../gateway/types.js';

export type OrderState =
  | 'created' | 'awaiting_payment' | 'paid' | 'fulfilling' | 'fulfilled'
  | 'refunding' | 'refunded' | 'failed' | 'cancelled';

export type OrderKind = 'airtime' | 'bundle' | 'bill' | 'merchant';
export type PayMethod = 'checkout' | 'float';

/** Allowed moves. Float orders go created → fulfilling (the agent's PIN stands in for payment). */
export const TRANSITIONS: Record<OrderState, readonly OrderState[]> = {
  created: ['awaiting_payment', 'fulfilling', 'failed', 'cancelled'],
  awaiting_payment: ['paid', 'failed', 'cancelled'],
  paid: ['fulfilling', 'fulfilled', 'refunding'],
  fulfilling: ['fulfilled', 'refunding', 'failed'],
  refunding: ['refunded'],
  fulfilled: [],
  refunded: [],
  // A payment confirmed after we closed the order (a failure we believed, then a Success IPN):
  // it is recorded as paid and refunded, never kept and never vended.
  failed: ['paid'],
  cancelled: ['paid'],
};

export const TERMINAL: ReadonlySet<OrderState> = new Set(['fulfilled', 'refunded', 'failed', 'cancelled']);

export interface Order {
  id: string;
  /** The engine's idempotency key the id was derived from (session instance and step). */
  idem: string;
  /** The aggregator's sessionId of the confirming hop (for support; not unique over time). */
  session?: string;
  kind: OrderKind;
  pay: PayMethod;
  state: OrderState;
  /** Who dialled (E.164): the payer for checkout, the agent for float. */
  phone: string;
  lang: 'en' | 'sw';
  amountMinor: number;
  /** airtime/bundle: E.164 recipient; telco as sent to the gateway. */
  recipient?: string;
  telco?: string;
  productCode?: string;
  bundleName?: string;
  biller?: Biller;
  account?: string;
  merchant?: string;
  /** Gateway references per step (checkoutRef, fulfilRef, refundRef). */
  checkoutRef?: string;
  fulfilRef?: string;
  refundRef?: string;
  /** Current refund attempt (refund1, refund2, …). */
  refundAttempt?: number;
  /** Kenya Power token / biller receipt / telco reference returned by the vend. */
  token?: string;
  receipt?: string;
  /** User-safe reason of a failure, both languages; reasonCode is the gateway's code. */
  reason?: string;
  reasonSw?: string;
  reasonCode?: string;
  createdAt: string;
  updatedAt: string;
}

export interface HistoryEntry {
  at: string;
  from: OrderState | '';
  to: OrderState;
  cause: string;
}
