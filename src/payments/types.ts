// An order: one thing a subscriber buys, from the confirming USSD screen to its last SMS.
import type { Biller } from '../gateway/types.js';

export type OrderState =
  | 'created'
  | 'awaiting_payment'
  | 'paid'
  | 'fulfilling'
  | 'fulfilled'
  | 'refunding'
  | 'refunded'
  | 'failed'
  | 'cancelled'
  /** Parked for a person: a payment that does not match, an outcome nobody can establish, a reversal. */
  | 'needs_attention'
  /** An operator closed a needs_attention order, with a reason (in the history). */
  | 'closed';

export type OrderKind = 'airtime' | 'bundle' | 'bill' | 'merchant';
export type PayMethod = 'checkout' | 'float';

/** Allowed moves. Float orders go created → fulfilling (the agent's PIN stands in for payment). */
export const TRANSITIONS: Record<OrderState, readonly OrderState[]> = {
  created: ['awaiting_payment', 'fulfilling', 'failed', 'cancelled'],
  awaiting_payment: ['paid', 'failed', 'cancelled', 'needs_attention'],
  paid: ['fulfilling', 'fulfilled', 'refunding', 'needs_attention'],
  fulfilling: ['fulfilled', 'refunding', 'failed', 'needs_attention'],
  refunding: ['refunded', 'needs_attention'],
  // A later status that contradicts the vend's payment (a reversal) is for a person to look at.
  fulfilled: ['needs_attention'],
  refunded: [],
  // A payment confirmed after we closed the order (a failure we believed, then the gateway's
  // status says paid): refunded in the same move (its cause records the payment), never kept
  // and never vended. Not through paid: a worker killed between two moves would leave a paid
  // order that reconciliation vends.
  failed: ['refunding', 'needs_attention'],
  cancelled: ['refunding', 'needs_attention'],
  // An operator's retry puts the order back where it stopped; an underpayment's refund starts
  // from here too. Closing ends it.
  // A step parked for its unknown outcome may still be settled by a late status lookup.
  needs_attention: ['awaiting_payment', 'paid', 'fulfilling', 'refunding', 'fulfilled', 'refunded', 'closed'],
  closed: [],
};

export const TERMINAL: ReadonlySet<OrderState> = new Set(['fulfilled', 'refunded', 'failed', 'cancelled', 'closed']);

/** States reconciliation leaves alone: finished, or waiting for a person. */
export const SETTLED: ReadonlySet<OrderState> = new Set([...TERMINAL, 'needs_attention']);

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
  /** The session's language (a menu language code); receipts are written in Swahili for sw, else English. */
  lang: string;
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
  /** What the gateway's status lookup says was paid (minor units), once confirmed. */
  paidMinor?: number;
  /** What a refund pays back (minor units): what was paid, which may be less than amountMinor. */
  refundMinor?: number;
  /** Why the order needs a person, the step it stopped at and the state it was in. */
  attention?: string;
  attentionStep?: string;
  attentionFrom?: OrderState;
  createdAt: string;
  updatedAt: string;
}

export interface HistoryEntry {
  at: string;
  from: OrderState | '';
  to: OrderState;
  cause: string;
}
