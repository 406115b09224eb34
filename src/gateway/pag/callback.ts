// Callback (IPN) verification and parsing. The signature is the body's own `signature` field,
// computed like a request's over every other field in the order sent; the secret is the same
// GATEWAY_SECRET that signs our requests (the seed has one secretKey per merchant).
import type { TransactionUpdate } from '../types.js';
import { OrderedObject, parseOrdered, toPlain } from './ordered-json.js';
import { toUpdate, type PagReply } from './replies.js';
import { verifySignature } from './signature.js';

/** The update, or null when the body is not JSON, not an object, lacks order_id, or is forged. */
export function parsePagCallback(rawBody: string | Buffer, secret: string): TransactionUpdate | null {
  let doc: unknown;
  try {
    doc = parseOrdered(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return null;
  }
  if (!(doc instanceof OrderedObject)) return null;
  if (!verifySignature(doc, doc.get('signature'), secret)) return null;
  const body = toPlain(doc) as PagReply;
  const orderId = typeof body.order_id === 'string' ? body.order_id : undefined;
  if (!orderId) return null;
  return toUpdate(body, orderId);
}
