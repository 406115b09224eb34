// What the gateway tells us about our own messages, as IPNs and webhooks
// (docs/gateways.md, "Webhook events"): an `sms.delivered` event for a bulk batch records its
// recipients as delivered, through the same per-recipient records as delivery reports (final
// states stay final, counts never go down). Receipts and OTPs carry nothing to count.
// POST /callbacks/sms-dlr (src/sms/dlr.ts) remains as a fallback format of our own.
import type { AppContext } from '../app-context.js';
import type { TransactionUpdate } from '../gateway/types.js';
import { parsePhone } from '../lib/phone.js';
import type { BulkStore } from './bulk-store.js';

const BATCH_REF = /^sms-(b[0-9a-f]{16})-(\d+)$/;

export function smsNotices(app: Pick<AppContext, 'redis'>, store: BulkStore): { record(u: TransactionUpdate, event: string): Promise<string> } {
  return {
    async record(u, event) {
      let where: { id: string; n: number } | undefined;
      const m = u.reference ? BATCH_REF.exec(u.reference) : null;
      if (m) where = { id: m[1]!, n: Number(m[2]) };
      if (!where) {
        const [id, n] = ((await app.redis.get(store.refKey(u.gatewayRef))) ?? '').split('|');
        if (id && n) where = { id, n: Number(n) };
      }
      if (!where) return 'not a bulk batch';
      if (event !== 'sms.delivered') return `batch ${where.n}: ${u.status}`;
      const batch = await app.redis.get(store.batchKey(where.id, where.n));
      if (batch === null) return 'batch expired';
      const members = new Set(batch.split(','));
      // The event names who it was delivered to; without one, the whole batch.
      const named = (u.destination ?? '')
        .split(/[,\s]+/)
        .map((x) => parsePhone(x))
        .filter((p) => p.ok)
        .map((p) => (p as { msisdn: string }).msisdn);
      const recipients = named.length ? named.filter((x) => members.has(x)) : [...members];
      let recorded = 0;
      for (const msisdn of recipients) if ((await store.recordDlr(where.id, where.n, msisdn, 'DELIVERED')) === 'recorded') recorded++;
      return `batch ${where.n}: ${recorded} delivered`;
    },
  };
}
