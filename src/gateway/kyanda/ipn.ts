// IPN and webhook reading: is it genuine, and what does it say. Routing, exactly-once processing
// and the status lookup that decides (an IPN is only a reason to look) belong to the payments
// module.
//
// Signatures (docs/gateways.md, "IPN trust"): the documentation's IPN section defines none, and
// the header it names for webhooks ("X-Kemru Technologies-Signature") is not a legal HTTP header
// name and comes with no algorithm. So: a notification without a signature is accepted unless
// IPN_SIGNATURE=required; one that carries a signature must verify (HMAC-SHA256 of the raw body,
// hex, under GATEWAY_SIGNATURE_HEADER). Money never depends on it either way.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CallbackParse } from '../types.js';
import { toTransactionUpdate } from './update.js';

export interface IpnConfig {
  /** GATEWAY_SIGNATURE_HEADER (IPNs). */
  header: string;
  /** GATEWAY_WEBHOOK_SIGNATURE_HEADER (webhook events), when it differs. */
  webhookHeader?: string;
  /** GATEWAY_WEBHOOK_SECRET (defaults to GATEWAY_SECRET in config). */
  secret: string;
  /** IPN_SIGNATURE=required: refuse notifications without a signature. */
  required?: boolean;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** HMAC-SHA256(raw body bytes) in lowercase hex, compared in constant time. */
export function verifyIpnSignature(headers: Record<string, string | string[] | undefined>, rawBody: string | Buffer, cfg: IpnConfig): boolean {
  const given = headerValue(headers, cfg.header)?.trim();
  if (!given || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const expected = createHmac('sha256', cfg.secret).update(rawBody).digest();
  const actual = Buffer.from(given, 'hex');
  // Both are 32 bytes here (checked above), which timingSafeEqual requires.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A webhook carries its event name and the transaction record; an IPN is the record itself. */
function recordOf(json: Record<string, unknown>): { record: unknown; event?: string } {
  const event = typeof json.event === 'string' ? json.event : undefined;
  if (!event) return { record: json };
  for (const k of ['data', 'transaction', 'payload']) {
    const v = json[k];
    if (v && typeof v === 'object' && !Array.isArray(v)) return { record: v, event };
  }
  return { record: json, event };
}

export function parseIpn(headers: Record<string, string | string[] | undefined>, rawBody: string | Buffer, cfg: IpnConfig): CallbackParse {
  // Whichever of the two headers is present must verify; a forged signature is never "absent".
  const names = [cfg.header, ...(cfg.webhookHeader && cfg.webhookHeader.toLowerCase() !== cfg.header.toLowerCase() ? [cfg.webhookHeader] : [])];
  const present = names.filter((h) => headerValue(headers, h) !== undefined);
  const signed = present.length > 0;
  if (signed ? !present.every((h) => verifyIpnSignature(headers, rawBody, { ...cfg, header: h })) : cfg.required) return { ok: false, why: 'bad_signature' };
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, why: 'unreadable' };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { ok: false, why: 'unreadable' };
  const { record, event } = recordOf(json as Record<string, unknown>);
  const update = toTransactionUpdate(record, json, undefined, event);
  if (!update) return { ok: false, why: 'unreadable' };
  return { ok: true, update, signed, ...(event ? { event } : {}) };
}
