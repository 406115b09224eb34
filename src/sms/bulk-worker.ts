// Sends bulk batches. Exactly-once towards the gateway as far as it can be had:
// - a batch already final (sms:bulk:<id>:final) is never sent again, whatever BullMQ redelivers;
// - acceptance is recorded atomically (BulkStore.finish) before the job is acknowledged;
// - an attempt that may have reached the gateway (status "sending" left by a killed worker, or an
//   `unknown` outcome) is looked up by our reference before anything is resent;
// - every transmission of batch n carries the same reference, so the gateway's own duplicate
//   detection (8006 → lookup in the client) covers the rest.
// Rate: the gateway client takes a slot from the Redis rate limiter shared by every instance, as
// the lowest priority ('bulk': money steps, receipts and one-time codes go first), and honours
// 429 Retry-After. A batch that finds no slot waits: the job puts itself back as delayed for as
// long as the limiter says (moveToDelayed + DelayedError), which uses up none of its attempts,
// so a backlog of any length is sent in the end, never dropped. Retryable gateway failures go
// back to BullMQ with exponential backoff. Metrics: sms_bulk_backlog_batches (by state, read at
// each scrape), sms_bulk_rate_waits_total, sms_bulk_batch_wait_seconds (queued → accepted).
import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { AppContext } from '../app-context.js';
import type { GatewayResult } from '../gateway/types.js';
import type { BulkStore, BatchInfo } from './bulk-store.js';
import { QUEUE_NAME, type BatchJobData } from './queue.js';

export function batchReference(bulkId: string, n: number): string {
  return `sms-${bulkId}-${n}`;
}

/** The gateway client decides (GatewayError.retryable, from its code tables); nothing here second-guesses it. */
const isRetryable = (r: Extract<GatewayResult, { kind: 'failed' }>): boolean => r.error.retryable;

const isRateLimited = (r: Extract<GatewayResult, { kind: 'failed' }>) => r.error.code === 'RATE_LIMITED' || r.error.httpStatus === 429;

/** Longest a waiting batch sleeps before asking the limiter again (a daily cap may be hours away). */
const MAX_RATE_DELAY_MS = 15 * 60_000;

/** How long a batch that got no slot waits before it asks again: what the limiter said, spread a little. */
export function rateDelayMs(hintMs: number | undefined, fallbackMs: number): number {
  const base = Math.min(MAX_RATE_DELAY_MS, Math.max(250, hintMs ?? fallbackMs));
  return Math.round(base * (1 + Math.random() * 0.1));
}

/** What the bulk worker uses of the application context. */
type BulkWorkerDeps = Pick<AppContext, 'config' | 'gateways' | 'logger' | 'metrics' | 'queueConnection' | 'queuePrefix' | 'redis'>;

export function createBulkWorker(app: BulkWorkerDeps, store: BulkStore, queue: Queue<BatchJobData>): Worker<BatchJobData> {
  const c = app.config;
  const now = () => new Date().toISOString();
  // Consecutive 429s seen by this process: the queue-wide pause doubles with each, up to 1 min.
  let limitedInARow = 0;

  async function process(job: Job<BatchJobData>, token?: string): Promise<string> {
    const { bulkId, batchNo: n } = job.data;
    const log = app.logger.child({ bulkId, batch: n });
    const done = await store.finalOf(bulkId, n);
    if (done) return `already ${done}`;
    const reference = batchReference(bulkId, n);
    const raw = await app.redis.get(store.batchKey(bulkId, n));
    if (raw === null) throw new UnrecoverableError(`batch ${n} of ${bulkId} has no recipients (expired?)`);
    const recipients = raw.split(',');
    const attempt = job.attemptsMade + 1;
    const base: Omit<BatchInfo, 'status'> = { size: recipients.length, attempts: attempt, at: now() };

    // A previous attempt may have reached the gateway and died before recording it.
    const prev = await store.batchInfo(bulkId, n);
    if (prev?.status === 'sending') {
      // Asked by the gateway's reference when an answer gave one, else by ours (docs/gateways.md,
      // "Whose reference"): "not found" under ours proves nothing, so the batch is not resent.
      let found;
      try {
        found = await app.gateways.sms.lookup({ ...(prev.gatewayRef ? { gatewayRef: prev.gatewayRef } : {}), reference });
      } catch (err) {
        // A lookup that failed is not "the gateway does not have it": resending now could send
        // the batch twice. Stay "sending" and ask again on the next attempt.
        log.warn({ attempt, err: (err as Error).message }, 'bulk batch lookup failed; not resending yet');
        throw new Error(`lookup of ${reference} failed`);
      }
      if (found.kind === 'found' && (found.update.status === 'succeeded' || found.update.status === 'pending')) {
        await store.finish(bulkId, n, 'sent', found.update.gatewayRef, { ...base, status: 'sent', gatewayRef: found.update.gatewayRef });
        log.info({ gatewayRef: found.update.gatewayRef }, 'bulk batch found already accepted; not resent');
        return 'sent (found)';
      }
      if (found.kind === 'not_found' && !found.proof) {
        log.warn({ attempt }, 'bulk batch outcome unknown and not found under our reference; not resent');
        if (attempt >= c.SMS_BATCH_ATTEMPTS) await fail(bulkId, n, base, 'UNKNOWN', 'outcome unknown: not found under our reference; not resent');
        throw new Error(`outcome of ${reference} unknown`);
      }
    }

    // A batch of a message with {column} placeholders carries its own filled-in text.
    const message = (await app.redis.get(store.batchText(bulkId, n))) ?? (await app.redis.hget(store.meta(bulkId), 'message'));
    if (!message) throw new UnrecoverableError(`bulk ${bulkId} has no message`);
    let result: GatewayResult;
    try {
      // A campaign can wait: where the gateway queues requests (offline_mode), it does so rather
      // than refusing a batch during its outage, and answers the outcome by IPN.
      const gw = app.gateways.sms;
      result = await gw.bulkSms(
        { phones: recipients.map((m) => `+${m}`), message },
        {
          reference,
          priority: 'bulk',
          ...(gw.capabilities.offlineMode ? { offlineMode: true } : {}),
          // "sending" (possibly sent: the next attempt looks it up and never resends on a "not
          // found" that proves nothing) only once a rate-limit slot is held and the request is
          // about to leave: a worker killed while it waited for a slot sent nothing.
          beforeSend: () => store.setBatch(bulkId, n, { ...base, status: 'sending' }),
        },
      );
    } catch (err) {
      // A throw from the client is a bug or a refusal before sending; retry like a 5xx.
      log.warn({ err: (err as Error).message, attempt }, 'bulk batch call threw');
      throw err;
    }

    if (result.kind === 'accepted' || result.kind === 'pending' || result.kind === 'succeeded') {
      limitedInARow = 0;
      const gatewayRef = result.gatewayRef ?? '';
      const first = await store.finish(bulkId, n, 'sent', gatewayRef, { ...base, status: 'sent', ...(gatewayRef ? { gatewayRef } : {}) });
      log.info({ gatewayRef, recipients: recipients.length, attempt, first }, 'bulk batch sent');
      if (first) {
        app.metrics.inc('sms_bulk_recipients_sent_total', {}, recipients.length, 'Bulk SMS recipients accepted by the gateway');
        app.metrics.observe('sms_bulk_batch_wait_seconds', Date.now() - job.timestamp, {}, 'Time from a bulk batch being queued to the gateway accepting it');
      }
      return 'sent';
    }
    if (result.kind === 'unknown') {
      // Leave "sending": the next attempt looks the reference up before resending.
      log.warn({ attempt, gatewayCode: result.error.code }, 'bulk batch outcome unknown; will look it up');
      if (attempt >= c.SMS_BATCH_ATTEMPTS) await fail(bulkId, n, base, result.error.code, result.error.message);
      throw new Error(`outcome unknown: ${result.error.code}`);
    }
    const e = result.error;
    if (isRateLimited(result) && e.httpStatus !== 429 && token) {
      // Our shared limiter has no slot for a bulk batch (the allowance is taken, or kept for
      // money, receipts and codes): wait as a delayed job, as long as the limiter says. Not an
      // attempt, so however long the backlog, the batch is sent in the end.
      const delayMs = rateDelayMs(e.retryAfterMs, c.SMS_RETRY_BASE_MS);
      const retryAt = new Date(Date.now() + delayMs).toISOString();
      await store.setBatch(bulkId, n, { ...base, attempts: job.attemptsMade, status: 'waiting', error: 'RATE_LIMITED', retryAt });
      app.metrics.inc('sms_bulk_rate_waits_total', {}, 1, 'Times a bulk batch found no gateway rate-limit slot and waited as a delayed job');
      log.info({ delayMs, hintMs: e.retryAfterMs }, 'bulk batch waiting for a rate-limit slot');
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
    if (isRateLimited(result)) {
      // The gateway itself answered 429: slow the whole queue down, on every instance, without
      // using up one of the batch's attempts. Each 429 in a row doubles the pause (up to 30 s).
      limitedInARow++;
      const pauseMs = Math.min(30_000, c.SMS_RETRY_BASE_MS * 2 ** Math.min(limitedInARow - 1, 10));
      await store.setBatch(bulkId, n, { ...base, status: 'retrying', error: '429' });
      log.warn({ attempt, pauseMs }, 'bulk sending rate-limited by the gateway; pausing the queue');
      await queue.rateLimit(pauseMs);
      throw Worker.RateLimitError();
    }
    if (isRetryable(result) && attempt < c.SMS_BATCH_ATTEMPTS) {
      await store.setBatch(bulkId, n, { ...base, status: 'retrying', error: e.code });
      log.warn({ attempt, gatewayCode: e.code, http: e.httpStatus }, 'bulk batch refused; will retry');
      throw new Error(`gateway ${e.code}`);
    }
    await fail(bulkId, n, base, e.code, e.message);
    throw new UnrecoverableError(`gateway ${e.code}: ${e.message}`);
  }

  async function fail(bulkId: string, n: number, base: Omit<BatchInfo, 'status'>, code: string, message: string) {
    app.metrics.inc('sms_bulk_batches_failed_total', {}, 1, 'Bulk SMS batches given up on');
    await store.finish(bulkId, n, 'failed', code, { ...base, status: 'failed', error: `${code}: ${message}`.slice(0, 200) });
    app.logger.error({ bulkId, batch: n, gatewayCode: code }, 'bulk batch failed for good');
  }

  const worker = new Worker<BatchJobData>(QUEUE_NAME, process, {
    connection: app.queueConnection(),
    prefix: app.queuePrefix,
    concurrency: c.SMS_SENDER_CONCURRENCY,
    lockDuration: c.SMS_JOB_LOCK_MS,
    stalledInterval: c.SMS_JOB_LOCK_MS,
    maxStalledCount: 10,
  });
  worker.on('error', (err) => app.logger.warn({ err: err.message }, 'sms worker error'));
  // Safety net: whatever made the last attempt fail, the batch ends "failed" in the totals.
  worker.on('failed', (job, err) => {
    if (!job) return;
    const last = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!last) return;
    const { bulkId, batchNo } = job.data;
    void app.redis
      .get(store.batchKey(bulkId, batchNo))
      .then((raw) => {
        const size = raw ? raw.split(',').length : 0;
        return fail(bulkId, batchNo, { size, attempts: job.attemptsMade, at: now() }, 'FAILED', err.message);
      })
      .catch((e: Error) => app.logger.warn({ err: e.message, bulkId, batch: batchNo }, 'could not record failed batch'));
  });
  return worker;
}
