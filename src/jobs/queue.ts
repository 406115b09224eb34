// A BullMQ queue plus (optionally) its worker, on the service's Redis with its prefix.
// Job ids are chosen by the caller (e.g. `${orderId}-${step}`), so adding the same step twice
// while the first is waiting, running or kept as completed is a no-op: BullMQ keeps one job per id.
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { AppContext } from '../app-context.js';

export interface QueueOptions {
  concurrency?: number;
  /** A killed worker's job is taken over once its lock expires (and the stalled check runs). */
  lockDurationMs?: number;
  /** Default attempts and backoff for jobs of this queue. */
  attempts?: number;
  backoffMs?: number;
}

/** BullMQ's processor: `token` lets a job move itself back to delayed (waiting without using an attempt). */
export type Processor = (job: Job, token?: string) => Promise<unknown>;

/** What JobQueue uses of the application context (and nothing else of it). */
type JobQueueDeps = Pick<AppContext, 'logger' | 'queueConnection' | 'queuePrefix'>;

export class JobQueue {
  readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(
    private readonly app: JobQueueDeps,
    readonly name: string,
    private readonly opts: QueueOptions = {},
  ) {
    this.queue = new Queue(name, {
      connection: app.queueConnection('producer'),
      prefix: app.queuePrefix,
      defaultJobOptions: {
        attempts: opts.attempts ?? 10,
        backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 },
        // Completed jobs are kept a day so a duplicate add of the same id stays a no-op.
        removeOnComplete: { age: 86400, count: 100_000 },
        removeOnFail: { age: 7 * 86400 },
      },
    });
  }

  async add(name: string, data: Record<string, unknown>, jobId: string, opts: JobsOptions = {}): Promise<Job> {
    return this.queue.add(name, data, { jobId, ...opts });
  }

  /** Runs a delayed job now (e.g. once the USSD reply is on the wire). */
  async promote(jobId: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  start(processor: Processor): void {
    if (this.worker) return;
    const lock = this.opts.lockDurationMs ?? 30_000;
    this.worker = new Worker(this.name, processor, {
      connection: this.app.queueConnection(),
      prefix: this.app.queuePrefix,
      concurrency: this.opts.concurrency ?? 8,
      lockDuration: lock,
      stalledInterval: Math.max(500, Math.floor(lock / 2)),
      maxStalledCount: 5,
    });
    this.worker.on('failed', (job, err) => {
      this.app.logger.warn({ queue: this.name, job: job?.id, name: job?.name, attempt: job?.attemptsMade, err: err.message }, 'job attempt failed');
    });
    this.worker.on('error', (err) => this.app.logger.warn({ queue: this.name, err: err.message }, 'worker error'));
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Stops taking jobs; `force` abandons running ones (their locks expire and another worker resumes them). */
  async stopWorker(force = false): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.close(force);
  }

  async close(): Promise<void> {
    await this.stopWorker();
    await this.queue.close();
  }
}
