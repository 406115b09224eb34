// Order ids and wire references. The order id is derived from the engine's idempotency key
// (stable for one session step), so a repeated USSD request maps to the same order. It is hashed
// rather than used raw because session ids are aggregator-chosen text (colons, any length) while
// references must fit the gateways' order_id alphabet ([A-Za-z0-9_.:-], ≤ 128) and BullMQ job ids
// may not contain ':' (BullMQ 6 rejects custom ids with one or two colons). One step of an order
// has one reference, used both as BullMQ job id and as our reference on the wire: `${orderId}-${step}`.
import { createHash } from 'node:crypto';

export type Step = 'checkout' | 'fulfil' | `refund${number}` | `sms${string}`;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

export function orderIdFor(idempotencyKey: string): string {
  const h = createHash('sha256').update(idempotencyKey).digest();
  let out = 'K';
  for (let i = 0; i < 15; i++) out += ALPHABET[h[i]! & 31];
  return out;
}

export const ORDER_ID_RE = /^K[0-9A-HJKMNP-TV-Z]{15}$/;

/** A step name as references carry it: checkout, fulfil, refund<N>, sms<notice>. */
export function isStep(v: string): v is Step {
  return v === 'checkout' || v === 'fulfil' || /^refund\d+$/.test(v) || /^sms[a-z0-9]+$/.test(v);
}

export function stepRef(orderId: string, step: Step): string {
  return `${orderId}-${step}`;
}

/** `K…-fulfil` → { orderId, step }; undefined when it is not one of ours. */
export function parseRef(ref: string | undefined): { orderId: string; step: Step } | undefined {
  if (!ref) return undefined;
  const i = ref.indexOf('-');
  if (i < 0) return undefined;
  const orderId = ref.slice(0, i);
  const step = ref.slice(i + 1);
  return ORDER_ID_RE.test(orderId) && isStep(step) ? { orderId, step } : undefined;
}
