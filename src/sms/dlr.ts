// Delivery reports: POST /callbacks/sms-dlr. The gateway documents no delivery-report format (its
// `sms.delivered` webhook event is what src/sms/notices.ts reads); this fallback one is
// ours (ASSUMED; docs/sms.md, "Delivery reports: `POST /callbacks/sms-dlr`", documents it):
//   { "reference": "sms-<bulkId>-<n>" | "transactionRef": "<gateway ref>",
//     "reports": [ { "phone": "0712345678", "status": "DELIVERED", "reason"?: "...", "at"?: "..." } ] }
// or a single report with phone/status at the top level. Statuses: DELIVERED, FAILED, EXPIRED,
// REJECTED (final) and SENT, PENDING. Signed like IPNs: header GATEWAY_SIGNATURE_HEADER =
// lowercase hex HMAC-SHA256(raw body, GATEWAY_WEBHOOK_SECRET). A report for a number that is not
// in the batch is ignored; a repeat of the same status changes nothing; a recipient's final
// state is never replaced (a late SENT after DELIVERED is ignored); reports for a batch that
// was recorded as failed are ignored (BulkStore.recordDlr).
import { createHmac } from 'node:crypto';
import type { AppContext } from '../app-context.js';
import { verifyIpnSignature } from '../gateway/kyanda/ipn.js';
import { parsePhone } from '../lib/phone.js';
import type { BulkStore } from './bulk-store.js';

const STATUSES = new Set(['DELIVERED', 'FAILED', 'EXPIRED', 'REJECTED', 'SENT', 'PENDING']);

export function signDlr(rawBody: string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

interface Report {
  phone?: unknown;
  status?: unknown;
}

export async function handleDlr(
  app: Pick<AppContext, 'config' | 'logger' | 'redis'>,
  store: BulkStore,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const c = app.config;
  // Signed exactly like an IPN: one verifier (constant-time) for both.
  if (!verifyIpnSignature(headers, rawBody, { header: c.GATEWAY_SIGNATURE_HEADER, secret: c.GATEWAY_WEBHOOK_SECRET })) {
    app.logger.warn({ route: 'sms-dlr' }, 'delivery report with a bad signature');
    return { status: 401, body: { status: 'error', message: 'bad signature' } };
  }
  const b = (body ?? {}) as { reference?: unknown; transactionRef?: unknown; reports?: unknown } & Report;
  let where: { id: string; n: number } | null = null;
  if (typeof b.reference === 'string') {
    const m = /^sms-(b[0-9a-f]{16})-(\d+)$/.exec(b.reference);
    if (m) where = { id: m[1]!, n: Number(m[2]) };
  }
  if (!where && typeof b.transactionRef === 'string' && b.transactionRef) {
    const v = await app.redis.get(store.refKey(b.transactionRef));
    const [id, n] = (v ?? '').split('|');
    if (id && n) where = { id, n: Number(n) };
  }
  if (!where) return { status: 404, body: { status: 'error', message: 'unknown reference' } };
  const reports: Report[] = Array.isArray(b.reports) ? (b.reports as Report[]) : [b];
  const batch = await app.redis.get(store.batchKey(where.id, where.n));
  if (batch === null) return { status: 404, body: { status: 'error', message: 'unknown batch' } };
  const members = new Set(batch.split(','));
  let updated = 0;
  let ignored = 0;
  for (const r of reports) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      ignored++;
      continue;
    } // junk in a signed list: skip, never a 500
    const p = parsePhone(r.phone);
    const status = typeof r.status === 'string' ? r.status.toUpperCase() : '';
    if (!p.ok || !STATUSES.has(status) || !members.has(p.msisdn)) {
      ignored++;
      continue;
    }
    const outcome = await store.recordDlr(where.id, where.n, p.msisdn, status);
    if (outcome === 'recorded') updated++;
    else if (outcome === 'ignored') ignored++;
  }
  return { status: 200, body: { status: 'success', updated, ignored } };
}
