// Read side of a bulk job: totals, per-batch status and the invalid numbers with their reasons.
import type { AppContext } from '../app-context.js';
import type { BatchInfo, BulkStore } from './bulk-store.js';

const INVALID_SAMPLE = 20;

export interface BulkStatus {
  id: string;
  state: string;
  encoding: string;
  parts: number;
  characters: number;
  createdAt?: string;
  queuedAt?: string;
  /** A scheduled campaign: its batches wait until then (state "scheduled" until it passes). */
  sendAt?: string;
  /** The message has {column} placeholders: each batch carries its own text. */
  templated?: boolean;
  smsParts?: number;
  costMinor?: number;
  finishedAt?: string;
  totals: {
    received: number;
    valid: number;
    invalid: number;
    duplicates: number;
    batches: number;
    batchesQueued: number;
    batchesSent: number;
    batchesFailed: number;
    recipientsSent: number;
    recipientsFailed: number;
    delivered: number;
    undelivered: number;
  };
  batches: Array<{ batch: number } & BatchInfo>;
  invalidSample: Array<{ input: string; reason: string }>;
  invalidUrl: string;
}

const num = (v: string | undefined) => Number(v ?? 0) || 0;

/** What a bulk id looks like (BulkIntake makes them). */
export const BULK_ID = /^b[0-9a-f]{16}$/;

export function parseInvalid(line: string): { input: string; reason: string } {
  const tab = line.indexOf('\t');
  return tab < 0 ? { input: line, reason: 'invalid' } : { input: line.slice(0, tab), reason: line.slice(tab + 1) };
}

/** What the status reads use of the application context. */
type BulkStatusDeps = Pick<AppContext, 'config' | 'redis'>;

export async function bulkStatus(app: BulkStatusDeps, store: BulkStore, id: string): Promise<BulkStatus | null> {
  if (!BULK_ID.test(id)) return null;
  const [m, bs, inv, fin, dlrn] = await Promise.all([
    app.redis.hgetall(store.meta(id)),
    app.redis.hgetall(store.bstat(id)),
    app.redis.lrange(store.invalid(id), 0, INVALID_SAMPLE - 1),
    app.redis.hgetall(store.final(id)),
    app.redis.hgetall(store.dlrCounts(id)),
  ]);
  if (!m.id) return null;
  const batches = Object.entries(bs)
    .map(([n, json]) => ({ batch: Number(n), ...(JSON.parse(json) as BatchInfo) }))
    .sort((a, b) => a.batch - b.batch);
  // Delivery counts of batches recorded as sent only: a report that came in before its batch
  // was recorded counts once the batch is, and never if the batch ends failed.
  let delivered = 0;
  let undelivered = 0;
  for (const [field, v] of Object.entries(dlrn)) {
    const [n, bucket] = field.split(':');
    if (!fin[n!]?.startsWith('sent:')) continue;
    if (bucket === 'delivered') delivered += num(v);
    else if (bucket === 'undelivered') undelivered += num(v);
  }
  const total = num(m.batches);
  const sent = num(m.batchesSent);
  const failed = num(m.batchesFailed);
  const scheduled = m.state === 'queued' && m.sendAt !== undefined && Date.parse(m.sendAt) > Date.now() && sent + failed === 0;
  return {
    id,
    state: scheduled ? 'scheduled' : (m.state ?? 'receiving'),
    encoding: m.encoding ?? '',
    parts: num(m.parts),
    characters: num(m.characters),
    ...(m.createdAt ? { createdAt: m.createdAt } : {}),
    ...(m.queuedAt ? { queuedAt: m.queuedAt } : {}),
    ...(m.finishedAt ? { finishedAt: m.finishedAt } : {}),
    ...(m.sendAt ? { sendAt: m.sendAt } : {}),
    ...(m.templated ? { templated: true } : {}),
    ...(m.smsParts !== undefined ? { smsParts: num(m.smsParts), costMinor: num(m.smsParts) * app.config.SMS_PRICE_PER_PART_MINOR } : {}),
    totals: {
      received: num(m.received),
      valid: num(m.valid),
      invalid: num(m.invalid),
      duplicates: num(m.duplicates),
      batches: total,
      batchesQueued: Math.max(0, total - sent - failed),
      batchesSent: sent,
      batchesFailed: failed,
      recipientsSent: num(m.recipientsSent),
      recipientsFailed: num(m.recipientsFailed),
      delivered,
      undelivered,
    },
    batches,
    invalidSample: inv.map(parseInvalid),
    invalidUrl: `/api/sms/bulk/${id}/invalid`,
  };
}

export async function invalidPage(app: BulkStatusDeps, store: BulkStore, id: string, offset: number, limit: number) {
  const key = store.invalid(id);
  const [total, lines] = await Promise.all([app.redis.llen(key), app.redis.lrange(key, offset, offset + limit - 1)]);
  const counted = num((await app.redis.hget(store.meta(id), 'invalid')) ?? undefined);
  return { id, offset, limit, kept: total, invalid: counted, items: lines.map(parseInvalid) };
}
