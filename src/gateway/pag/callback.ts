// Callback (IPN) verification and parsing. The signature is the body's own `signature` field,
// computed like a request's over every other field in the order sent; the secret is the same
// GATEWAY_SECRET that signs our requests (the gateway has one secret per merchant).
// A callback is only a reason to ask the status endpoint (docs/gateways.md, "5.7.3 callbacks"):
// the documented callback sample carries `result` but no `status`, so it says nothing about
// whether the payment went through.
import type { CallbackParse } from '../types.js';
import { OrderedObject, parseOrdered, toPlain } from './ordered-json.js';
import { toUpdate, type PagReply } from './replies.js';
import { verifySignature } from './signature.js';

/**
 * `required`: refuse a callback without a signature (IPN_SIGNATURE=required); a signature that
 * is present must always verify.
 */
export function parsePagCallback(rawBody: string | Buffer, secret: string, required = false): CallbackParse {
  let doc: unknown;
  try {
    doc = parseOrdered(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, why: 'unreadable' };
  }
  if (!(doc instanceof OrderedObject)) return { ok: false, why: 'unreadable' };
  const signature = doc.get('signature');
  const signed = signature !== undefined && signature !== null && signature !== '';
  if (signed ? !verifySignature(doc, signature, secret) : required) return { ok: false, why: 'bad_signature' };
  const body = toPlain(doc) as PagReply;
  const orderId = typeof body.order_id === 'string' ? body.order_id : undefined;
  if (!orderId) return { ok: false, why: 'unreadable' };
  return { ok: true, update: toUpdate(body, orderId), signed };
}
