// Intake of one bulk job: numbers arrive one at a time (from a JSON array, a streamed CSV or a
// multipart upload), are normalized, de-duplicated and cut into batches of at most 1,000 that go
// straight to Redis. Memory holds one batch, a bounded chunk of invalid entries and the bitmap
// of SeenSet, never the list. Jobs are enqueued only when the whole list is in, so an upload cut
// off halfway sends nothing.
// A message with {column} placeholders (template.ts) is filled in per recipient, and recipients
// are grouped by the text they get: each batch holds one text for up to 1,000 numbers (one
// gateway request). At most MAX_GROUPS texts wait for more recipients at once; past that every
// waiting group is written as it is (fewer numbers per batch, never more memory).
// A dry run reads the whole list the same way and writes nothing: it answers with the first
// messages, the numbers, parts and cost.
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
import { render, type Template } from './template.js';

export const MAX_PARTS = 10;
const INVALID_FLUSH = 1000;
const ENQUEUE_CHUNK = 50;
/**
 * Once the guards have passed, the campaign's record and jobs are written with this many tries a
 * second apart: every write is idempotent (a hash, an index entry, jobs with fixed ids), and a
 * Redis stall of a few seconds must not turn an accepted list into a refused one.
 */
const QUEUE_TRIES = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Texts waiting for more recipients at once (personalised messages are mostly one per recipient). */
const MAX_GROUPS = 1000;
/** Messages a dry run shows. */
const SAMPLE = 5;

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
  /** smsParts × SMS_PRICE_PER_PART_MINOR, in cents (KES). */
  costMinor: number;
  /** Set when the batches wait for a chosen time (ISO). */
  sendAt?: string;
}

export interface DryRun extends Omit<BulkSummary, 'id' | 'state' | 'sendAt'> {
  dryRun: true;
  currency: 'KES';
  pricePerPartMinor: number;
  /** The first messages as they would go out. */
  sample: Array<{ to: string; text: string; parts: number }>;
  invalidSample: Array<{ input: string; reason: string }>;
}

export interface IntakeOptions {
  dryRun?: boolean;
  /** The message's placeholders, filled from each recipient's fields. */
  template?: Template;
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

/** What BulkIntake uses of the application context (and nothing else of it). */
type BulkIntakeDeps = Pick<AppContext, 'config' | 'logger' | 'redis'>;

export class BulkIntake {
  readonly id = `b${randomBytes(8).toString('hex')}`;
  private readonly seen = new SeenSet();
  private readonly digest = new ListDigest();
  /** Recipients waiting for their batch, by the text they get ('' = the campaign's one message). */
  private groups = new Map<string, string[]>();
  private full: string[] = [];
  private invalidChunk: string[] = [];
  private batchNo = 0;
  private received = 0;
  private valid = 0;
  private invalid = 0;
  private duplicates = 0;
  private smsParts = 0;
  private maxParts = 0;
  private ucs2 = false;
  private readonly partsOf = new Map<string, MessageParts>();
  private readonly sample: DryRun['sample'] = [];
  private readonly invalidSample: DryRun['invalidSample'] = [];
  private started = false;
  /** True once any batch job was queued: from then on part of the campaign may already be sent. */
  queued = false;
  private dryRun: boolean;
  private template: Template | undefined;

  constructor(
    private readonly app: BulkIntakeDeps,
    private readonly store: BulkStore,
    private readonly queue: Queue<BatchJobData>,
    opts: IntakeOptions = {},
  ) {
    this.dryRun = opts.dryRun ?? false;
    this.template = opts.template;
  }

  /** The template, once known (a multipart form names it before its file). */
  setTemplate(t: Template | undefined): void {
    this.template = t;
  }

  /** Reads the list as a dry run (only before the first entry: nothing is written then). */
  setDryRun(): void {
    if (this.started && !this.dryRun) throw new BulkError('BAD_DRY_RUN', 'dryRun must come before the recipients');
    this.dryRun = true;
  }

  get isDryRun(): boolean {
    return this.dryRun;
  }

  get templated(): boolean {
    return this.template !== undefined;
  }

  private async begin(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.dryRun) return;
    const meta = this.store.meta(this.id);
    await this.app.redis.multi().hset(meta, { id: this.id, state: 'receiving', createdAt: new Date().toISOString() }).expire(meta, this.store.ttl).exec();
  }

  /** One entry of the list; `problem` (a row the CSV reader could not use) makes it invalid as is. */
  async add(raw: string, problem?: string, fields?: Record<string, string>): Promise<void> {
    if (!this.started) await this.begin();
    if (this.take(raw, problem, fields)) await this.flush();
  }

  /** Many entries; writes to Redis only when a batch (or a chunk of invalid entries) is full. */
  async addMany(rows: ReadonlyArray<{ value: string; problem?: string; fields?: Record<string, string> }>): Promise<void> {
    if (!this.started) await this.begin();
    for (const r of rows) if (this.take(r.value, r.problem, r.fields)) await this.flush();
  }

  private reject(raw: string, reason: string): boolean {
    this.invalid++;
    const input = String(raw)
      .replace(/[\t\r\n]/g, ' ')
      .slice(0, 64);
    if (this.dryRun) {
      if (this.invalidSample.length < 20) this.invalidSample.push({ input, reason });
      return false;
    }
    if (this.invalid <= this.app.config.SMS_MAX_INVALID_KEPT) {
      // Tabs and newlines would break the stored "raw\treason" line; 64 chars is enough to find it.
      this.invalidChunk.push(`${input}\t${reason}`);
      return this.invalidChunk.length >= INVALID_FLUSH;
    }
    return false;
  }

  /** Counts one entry in memory; true when something is full and must be written now. */
  private take(raw: string, problem: string | undefined, fields: Record<string, string> | undefined): boolean {
    this.received++;
    const p = problem === undefined ? parsePhoneFast(raw) : { ok: false as const, reason: problem };
    if (!p.ok) return this.reject(raw, p.reason);
    if (this.seen.testAndAdd(p.msisdn)) {
      this.duplicates++;
      return false;
    }
    let text = '';
    if (this.template) {
      const r = render(this.template, fields ?? {});
      if ('missing' in r) return this.reject(raw, `no value for {${r.missing}}`);
      text = r.text;
      if (!this.partsOf.has(text)) {
        const parts = messageParts(text);
        if (parts.parts > MAX_PARTS) return this.reject(raw, `its message needs ${parts.parts} SMS parts; at most ${MAX_PARTS}`);
        this.partsOf.set(text, parts);
      }
    }
    this.digest.add(p.msisdn);
    this.valid++;
    const parts = this.template ? this.partsOf.get(text)! : undefined;
    if (parts) this.count(parts);
    if (this.dryRun && this.sample.length < SAMPLE) this.sample.push({ to: `+${p.msisdn}`, text, parts: parts?.parts ?? 0 });
    let group = this.groups.get(text);
    if (!group) {
      group = [];
      this.groups.set(text, group);
    }
    group.push(p.msisdn);
    if (group.length >= BULK_BATCH_SIZE) this.full.push(text);
    return this.full.length > 0 || this.groups.size > MAX_GROUPS;
  }

  private count(parts: MessageParts): void {
    this.smsParts += parts.parts;
    this.maxParts = Math.max(this.maxParts, parts.parts);
    if (parts.encoding === 'UCS-2') this.ucs2 = true;
  }

  private async flush(): Promise<void> {
    for (const text of this.full.splice(0)) await this.flushGroup(text);
    if (this.groups.size > MAX_GROUPS) for (const text of [...this.groups.keys()]) await this.flushGroup(text);
    if (this.invalidChunk.length >= INVALID_FLUSH) await this.flushInvalid();
  }

  private async flushInvalid(): Promise<void> {
    if (this.invalidChunk.length === 0) return;
    const key = this.store.invalid(this.id);
    const chunk = this.invalidChunk;
    this.invalidChunk = [];
    await this.app.redis
      .multi()
      .rpush(key, ...chunk)
      .expire(key, this.store.ttl)
      .exec();
  }

  private async flushGroup(text: string): Promise<void> {
    const recipients = this.groups.get(text);
    if (!recipients || recipients.length === 0) return;
    this.groups.delete(text);
    const n = ++this.batchNo;
    if (this.dryRun) return;
    const info = JSON.stringify({ status: 'queued', size: recipients.length, at: new Date().toISOString() });
    const bstat = this.store.bstat(this.id);
    const m = this.app.redis
      .multi()
      .set(this.store.batchKey(this.id, n), recipients.join(','), 'EX', this.store.ttl)
      .hset(bstat, String(n), info)
      .expire(bstat, this.store.ttl);
    // A filled-in text travels with its batch; without placeholders every batch sends the message.
    if (this.template) m.set(this.store.batchText(this.id, n), text, 'EX', this.store.ttl);
    await m.exec();
  }

  /**
   * Everything received: store the totals and enqueue one job per batch. `beforeEnqueue` runs
   * once the list is complete and before anything is queued (the duplicate and idempotency
   * guards); it receives the fingerprint of (message, recipients) and may throw to stop here.
   * `sendAt`: the batches wait (delayed jobs) until then.
   */
  async finish(message: string, beforeEnqueue?: (fingerprint: string) => Promise<void>, opts: { sendAt?: Date } = {}): Promise<BulkSummary> {
    const parts = checkMessage(message);
    if (!this.started) await this.begin();
    for (const text of [...this.groups.keys()]) await this.flushGroup(text);
    await this.flushInvalid();
    if (this.received === 0) {
      await this.abort();
      throw new BulkError('NO_RECIPIENTS', 'no recipients received');
    }
    const s = this.totals(message, parts);
    if (this.dryRun) throw new Error('finish() on a dry run: use dryRunResult()');
    await beforeEnqueue?.(createHash('sha256').update(`${message}\n${this.digest}`).digest('hex'));
    const batches = this.batchNo;
    // With nothing valid there is nothing to send: the job is done at once.
    const state = batches === 0 ? 'done' : 'queued';
    const sendAt = opts.sendAt && batches > 0 ? opts.sendAt.toISOString() : undefined;
    const meta = this.store.meta(this.id);
    await this.persist(() =>
      this.app.redis.hset(meta, {
        message,
        encoding: s.encoding,
        parts: s.parts,
        characters: parts.characters,
        received: this.received,
        valid: this.valid,
        invalid: this.invalid,
        duplicates: this.duplicates,
        batches,
        batchesSent: 0,
        batchesFailed: 0,
        recipientsSent: 0,
        recipientsFailed: 0,
        smsParts: s.smsParts,
        ...(this.template ? { templated: '1' } : {}),
        ...(sendAt ? { sendAt } : {}),
        state,
        queuedAt: new Date().toISOString(),
        ...(state === 'done' ? { finishedAt: new Date().toISOString() } : {}),
      }),
    );
    await this.persist(() => this.store.index(this.id));
    const delay = opts.sendAt ? Math.max(0, opts.sendAt.getTime() - Date.now()) : 0;
    // A few jobs per addBulk: each call is one burst of work here and in Redis, and other
    // requests (USSD hops) wait behind it; 500 jobs per call stalled them for 100+ ms on a busy machine.
    for (let from = 1; from <= batches; from += ENQUEUE_CHUNK) {
      const jobs: Parameters<Queue<BatchJobData>['addBulk']>[0] = [];
      for (let n = from; n < from + ENQUEUE_CHUNK && n <= batches; n++) {
        jobs.push({ name: 'batch', data: { bulkId: this.id, batchNo: n }, opts: { jobId: batchJobId(this.id, n), ...(delay ? { delay } : {}) } });
      }
      await this.persist(() => this.queue.addBulk(jobs));
      this.queued = true;
    }
    this.app.logger.info(
      {
        bulkId: this.id,
        received: this.received,
        valid: this.valid,
        invalid: this.invalid,
        duplicates: this.duplicates,
        batches,
        templated: !!this.template,
        sendAt,
        seenBytes: this.seen.bytes,
      },
      'bulk sms queued',
    );
    return { id: this.id, state, ...s, ...(sendAt ? { sendAt } : {}) };
  }

  /** Runs an idempotent write, again a second later while Redis fails, up to QUEUE_TRIES times. */
  private async persist<T>(write: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await write();
      } catch (err) {
        if (i >= QUEUE_TRIES) throw err;
        this.app.logger.warn({ bulkId: this.id, try: i, err: (err as Error).message }, 'bulk campaign not queued yet; trying again');
        await sleep(1000);
      }
    }
  }

  private totals(message: string, parts: MessageParts): Omit<BulkSummary, 'id' | 'state' | 'sendAt'> {
    const smsParts = this.template ? this.smsParts : parts.parts * this.valid;
    return {
      encoding: this.template ? (this.ucs2 ? 'UCS-2' : 'GSM-7') : parts.encoding,
      parts: this.template ? this.maxParts : parts.parts,
      characters: parts.characters,
      received: this.received,
      valid: this.valid,
      invalid: this.invalid,
      duplicates: this.duplicates,
      batches: this.batchNo,
      smsParts,
      costMinor: smsParts * this.app.config.SMS_PRICE_PER_PART_MINOR,
    };
  }

  /** A dry run's answer, once the whole list is read: nothing was written or queued. */
  async dryRunResult(message: string): Promise<DryRun> {
    const parts = checkMessage(message);
    for (const text of [...this.groups.keys()]) await this.flushGroup(text);
    if (this.received === 0) throw new BulkError('NO_RECIPIENTS', 'no recipients received');
    const sample = this.template ? this.sample : this.sample.map((m) => ({ ...m, text: message, parts: parts.parts }));
    return {
      dryRun: true,
      currency: 'KES',
      pricePerPartMinor: this.app.config.SMS_PRICE_PER_PART_MINOR,
      ...this.totals(message, parts),
      sample,
      invalidSample: this.invalidSample,
    };
  }

  /** Upload failed: forget what was stored; nothing was enqueued. */
  async abort(): Promise<void> {
    if (!this.started || this.dryRun) return;
    const keys = [this.store.meta(this.id), this.store.bstat(this.id), this.store.invalid(this.id)];
    for (let n = 1; n <= this.batchNo; n++) keys.push(this.store.batchKey(this.id, n), this.store.batchText(this.id, n));
    for (let i = 0; i < keys.length; i += 500) await this.app.redis.del(...keys.slice(i, i + 500)).catch(() => 0);
  }
}
