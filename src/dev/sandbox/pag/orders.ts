// The PAG sandbox's order book: one entry per order_id, moved through the documented states (docs/gateways.md, "5.7.3 status codes").
import { randomInt } from 'node:crypto';
import { SERVICE, RESULT, serviceDateTime } from './replies.js';

export type PagOp = 'payment_c2b' | 'payment_b2c';

export interface Order {
  op: PagOp;
  orderId: string;
  transactionId: string;
  transactionRef: string;
  status: number;
  providerId: number;
  providerResult: { code: number; message: string };
  /** The INIT body as received (signature included). */
  body: Record<string, unknown>;
  /** INIT extra plus data accepted later through STATUS (universal flow); any JSON values. */
  extra: Record<string, unknown>;
  /** The INIT answer, replayed verbatim to any repeat of this order_id. */
  initReply: Record<string, unknown>;
  /** Universal flow: fields still missing while status is 8. */
  missing: string[];
  /** Multi-step: an OTP is awaited while status is 1. */
  otpPending: boolean;
  otpFailures: number;
  /** Payouts: non-zero while the merchant's confirmation (a second payment_b2c) is awaited. */
  confirmType: number;
  /** The answer to the accepted confirmation, replayed to its repeats. */
  confirmReply?: Record<string, unknown>;
}

export function newTransactionId(): string {
  return `${Date.now()}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`.slice(-12);
}

/** Current state as a STATUS answer. */
export function stateReply(o: Order, extras: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_id: o.orderId,
    // The documented status-8 sample carries an empty transaction_id: nothing has started yet.
    transaction_id: o.status === 8 ? '' : o.transactionId,
    transaction_ref: o.transactionRef,
    status: o.status,
    result: o.status === 8 ? { code: RESULT.OK, message: 'request error' } : { code: RESULT.OK, message: 'OK' },
    provider_result: o.providerResult,
    ...SERVICE,
    service_date_time: serviceDateTime(),
    ...(o.confirmType ? { confirm_type: o.confirmType } : {}),
    ...extras,
  };
}
