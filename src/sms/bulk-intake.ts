// Intake of one bulk job: numbers arrive one at a time (from a JSON array, a streamed CSV or a
// multipart upload), are normalized, de-duplicated and cut into batches of at most 1,000 that go
// straight to Redis. Memory holds one batch, a bounded chunk of invalid entries and the bitmap
// of SeenSet, never the list. Jobs are enqueued only when the whole list is in, so an upload cut
// off halfway sends nothing.
import { createHash, randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { AppContext } from '../app-context.js';
import { parsePhoneFast } from '../lib/phone.js';
import type { BulkStore } from './bulk-store.js';
import { BulkError } from './errors.js';
import { messageParts, type MessageParts } from './parts.js';
import { SeenSet } from './dedupe.js';
import { ListDigest } from './list-digest.js';
import { BULK_BATCH_SIZE, batchJobId, type BatchJobData } from './queue.js';

export const MAX_PARTS = 10;
const INVALID_FLUSH = 1000;
const ENQUEUE_CHUNK = 50;

export interface BulkSummary {
  id: string;
  state: string;
  encoding: MessageParts['encoding'];
  parts: number;
  characters: number;
  received: number;
  valid: number;
  invalid: number;
  duplicates: number;
  batches: number;
  smsParts: number;
}

// Whitespace, control and format characters (zero-width space and joiners, BOM, …): a message
// made only of these would reach phones as a blank SMS.
const INVISIBLE = /[\s\p{Cc}\p{Cf}]/gu;

export function checkMessage(message: unknown): MessageParts {
  if (typeof message !== 'string' || message.trim() === '') throw new BulkError('MESSAGE_REQUIRED', 'message is required');
  if (message.replace(INVISIBLE, '') === '') throw new BulkError('MESSAGE_REQUIRED', 'message has no visible characters');
  // GSM-7 reads a NUL as "@"; nobody means to send one.
  if (message.includes('\u0000')) throw new BulkError('BAD_MESSAGE', 'message contains a NUL character');
  const p = messageParts(message);
  if (p.parts > MAX_PARTS) throw new BulkError('MESSAGE_TOO_LONG', `message needs ${p.parts} SMS parts (${p.encoding}); at most ${MAX_PARTS}`);
  return p;
}

export class BulkIntake {
  readonly id = `b${randomBytes(8).toString('hex')}`;
  private readonly seen = new SeenSet();
  private readonly digest = new ListDigest();
  private batch: string[] = [];
  private invalidChunk: string[] = [];
  private batchNo = 0;
  private received = 0;
  private valid = 0;
  private invalid = 0;
  private duplicates = 0;
  private started = false;

  constructor(private readonly app: AppContext, private readonly store: BulkStore, private readonly queue: Queue<BatchJobData>) {}

  private async begin(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const meta = this.store.meta(this.id);
    await this.app.redis.multi().hset(meta, { id: this.id, state: 'receiving', createdAt: new Date().toISOString() }).expire(meta, this.store.ttl).exec();
  }

  /** One entry of the list; `problem` (a row the CSV reader could not use) makes it invalid as is. */
  async add(raw: string, problem?: string): Promise<void> {
    if (!this.started) await this.begin();
    if (this.take(raw, problem)) await this.flush();
  }

  /** Many entries; writes to Redis only when a batch (or a chunk of invalid entries) is full. */
  async addMany(rows: ReadonlyArray<{ value: string; problem?: string }>): Promise<void> {
    if (!this.started) await this.begin();
    for (const r of rows) if (this.take(r.value, r.problem)) await this.flush();
  }

  /** Counts one entry in memory; true when something is full and must be written now. */
  private take(raw: string, problem: string | undefined): boolean {
    this.received++;
    const p = problem === undefined ? parsePhoneFast(raw) : { ok: false as const, reason: problem };
    if (!p.ok) {
      this.invalid++;
      if (this.invalid <= this.app.config.SMS_MAX_INVALID_KEPT) {
        // Tabs and newlines would break the stored "raw\treason" line; 64 chars is enough to find it.
        this.invalidChunk.push(`${String(raw).replace(/[\t\r\n]/g, ' ').slice(0, 64)}\t${p.reason}`);
        return this.invalidChunk.length >= INVALID_FLUSH;
      }
      return false;
    }
    if (this.seen.testAndAdd(p.msisdn)) {
      this.duplicates++;
      return false;
    }
    this.digest.add(p.msisdn);
    this.valid++;
    this.batch.push(p.msisdn);
    return this.batch.length >= BULK_BATCH_SIZE;
  }

  private async flush(): Promise<void> {
    if (this.batch.length >= BULK_BATCH_SIZE) await this.flushBatch();
    if (this.invalidChunk.length >= INVALID_FLUSH) await this.flushInvalid();
  }

  private async flushInvalid(): Promise<void> {
    if (this.invalidChunk.length === 0) return;
    const key = this.store.invalid(this.id);
    const chunk = this.invalidChunk;
    this.invalidChunk = [];
    await this.app.redis.multi().rpush(key, ...chunk).expire(key, this.store.ttl).exec();
  }

  private async flushBatch(): Promise<void> {
    if (this.batch.length === 0) return;
    const n = ++this.batchNo;
    const recipients = this.batch;
    this.batch = [];
    const info = JSON.stringify({ status: 'queued', size: recipients.length, at: new Date().toISOString() });
    const bstat = this.store.bstat(this.id);
    await this.app.redis.multi()
      .set(this.store.batchKey(this.id, n), recipients.join(','), 'EX', this.store.ttl)
      .hset(bstat, String(n), info)
      .expire(bstat, this.store.ttl)
      .exec();
  }

  /**
   * Everything received: store the totals and enqueue one job per batch. `beforeEnqueue` runs
   * once the list is complete and before anything is queued (the duplicate and idempotency
   * guards); it receives the fingerprint of (message, recipients) and may throw to stop here.
   */
  async finish(message: string, beforeEnqueue?: (fingerprint: string) => Promise<void>): Promise<BulkSummary> {
    const parts = checkMessage(message);
    if (!this.started) await this.begin();
    await this.flushBatch();
    await this.flushInvalid();
    if (this.received === 0) {
      await this.abort();
      throw new BulkError('NO_RECIPIENTS', 'no recipients received');
    }
    await beforeEnqueue?.(createHash('sha256').update(`${message}\n${this.digest}`).digest('hex'));
    const batches = this.batchNo;
    // With nothing valid there is nothing to send: the job is done at once.
    const state = batches === 0 ? 'done' : 'queued';
    const meta = this.store.meta(this.id);
    await this.app.redis.hset(meta, {
      message, encoding: parts.encoding, parts: parts.parts, characters: parts.characters,
      received: this.received, valid: this.valid, invalid: this.invalid, duplicates: this.duplicates,
      batches, batchesSent: 0, batchesFailed: 0, recipientsSent: 0, recipientsFailed: 0,
      state, queuedAt: new Date().toISOString(), ...(state === 'done' ? { finishedAt: new Date().toISOString() } : {}),
    });
    // A few jobs per addBulk: each call is one burst of work here and in Redis, and other
    // requests (USSD hops) wait behind it; 500 jobs per call stalled them for 100+ ms on a busy machine.
    for (let from = 1; from <= batches; from += ENQUEUE_CHUNK) {
      const jobs = [];
      for (let n = from; n < from + ENQUEUE_CHUNK && n <= batches; n++) {
        jobs.push({ name: 'batch', data: { bulkId: this.id, batchNo: n }, opts: { jobId: batchJobId(this.id, n) } });
      }
      await this.queue.addBulk(jobs);
    }
    this.app.logger.info({ bulkId: this.id, received: this.received, valid: this.valid, invalid: this.invalid, duplicates: this.duplicates, batches, seenBytes: this.seen.bytes }, 'bulk sms queued');
    return {
      id: this.id, state, encoding: parts.encoding, parts: parts.parts, characters: parts.characters,
      received: this.received, valid: this.valid, invalid: this.invalid, duplicates: this.duplicates, batches,
      smsParts: parts.parts * this.valid,
    };
  }

  /** Upload failed: forget what was stored; nothing was enqueued. */
  async abort(): Promise<void> {
    if (!this.started) return;
    const keys = [this.store.meta(this.id), this.store.bstat(this.id), this.store.invalid(this.id)];
    for (let n = 1; n <= this.batchNo; n++) keys.push(this.store.batchKey(this.id, n));
    for (let i = 0; i < keys.length; i += 500) await this.app.redis.del(...keys.slice(i, i + 500)).catch(() => 0);
  }
}
