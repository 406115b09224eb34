// Redis connections. Commands get a fail-fast client (a subscriber must get a reply,
// not a request queued forever while Redis is down); BullMQ gets its own blocking-safe ones.
import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false, // fail now rather than queue while disconnected
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    ...opts,
  });
}

/**
 * Connection for BullMQ: BullMQ requires maxRetriesPerRequest null. A producer's connection
 * (Queue: adds, reads) gets `commandTimeoutMs`, so a request that queues a job answers 503
 * instead of hanging while Redis is stalled; a worker's has none (its blocking commands wait by
 * design).
 */
export function createQueueRedis(url: string, commandTimeoutMs?: number): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true, ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}) });
}

/** An error from Redis being down, stalled or unreachable (as opposed to a bug of ours). */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  if (!e?.message) return false;
  return e.name === 'MaxRetriesPerRequestError'
    || /^(Command timed out|Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Reached the max retries)/.test(e.message)
    || /LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN/.test(e.message);
}

/** Resolves once the client is ready (or rejects after timeoutMs). */
export async function waitReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => { cleanup(); resolve(); };
    const cleanup = () => { clearTimeout(t); redis.off('ready', onReady); };
    redis.on('ready', onReady);
  });
}
