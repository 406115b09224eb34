// Redis connections. Commands get a fail-fast client (a subscriber must get a reply,
// not a request queued forever while Redis is down); BullMQ gets its own blocking-safe ones.
// REDIS_URL chooses the topology (src/redis-url.ts): one node, a Sentinel set or a Cluster.
// A Cluster client is handed out typed as Redis: the commands the service uses are the same,
// every multi-key script and MULTI keeps its keys in one slot (src/keys.ts), and the few
// places that touch the socket itself (session-store's cork) check that it exists.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTopology } from './redis-url.js';

export type { Redis };

/**
 * A node that was just demoted (Sentinel failover) answers writes with READONLY: reconnect, and
 * the Sentinel client asks the sentinels for the new master. `resend` 2: the refused command
 * did not run, so sending it again after the reconnect is safe (BullMQ's connections);
 * 1: the command fails now and the caller answers politely (the fail-fast clients).
 */
function onReadonly(resend: 1 | 2) {
  return (err: Error) => (/READONLY/.test(err.message) ? resend : false);
}

function build(t: RedisTopology, opts: RedisOptions, detectFailover = true): Redis {
  if (t.kind === 'single') return new Redis(t.url, opts);
  if (t.kind === 'sentinel') {
    return new Redis({
      ...opts,
      sentinels: t.sentinels,
      name: t.name,
      ...(t.password ? { password: t.password } : {}),
      ...(t.db !== undefined ? { db: t.db } : {}),
      ...(t.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      // Told of a switch-master by the sentinels, not only when the old master stops answering.
      // Its sentinel connections close only on disconnect() (closeRedis does both). BullMQ's
      // connections go without: BullMQ duplicates and closes them itself, and the sentinels
      // drop every client of a demoted master anyway.
      failoverDetector: detectFailover,
      sentinelRetryStrategy: (times) => Math.min(times * 200, 2000),
    });
  }
  // The cluster options that matter live on the Cluster; the per-node connection gets the rest.
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...node } = opts;
  const clusterOpts: ClusterOptions = {
    enableOfflineQueue: enableOfflineQueue ?? true,
    lazyConnect: lazyConnect ?? false,
    clusterRetryStrategy: retryStrategy === undefined ? (times) => Math.min(times * 200, 2000) : (retryStrategy as ClusterOptions['clusterRetryStrategy']),
    // While a replica is promoted the slots answer CLUSTERDOWN or move: retry briefly, within
    // the command timeout, then let the caller answer politely.
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    scaleReads: 'master',
    redisOptions: { ...node, ...(t.password ? { password: t.password } : {}), ...(t.tls ? { tls: {} } : {}) },
  };
  return new Cluster(t.nodes, clusterOpts) as unknown as Redis;
}

export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return build(parseRedisUrl(url), {
    enableOfflineQueue: false, // fail now rather than queue while disconnected
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    reconnectOnError: onReadonly(1),
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
  return build(
    parseRedisUrl(url),
    {
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      reconnectOnError: onReadonly(2),
      ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}),
    },
    false,
  );
}

/** QUIT (pending replies first), then disconnect: a Sentinel client's own sentinel connections close only then. */
export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => undefined);
  redis.disconnect();
}

/** An error from Redis being down, stalled or unreachable (as opposed to a bug of ours). */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  if (!e?.message) return false;
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    e.name === 'ClusterAllFailedError' ||
    /^(Command timed out|Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Reached the max retries|Cluster isn't ready|Failed to refresh slots cache|Too many Cluster redirections)/.test(
      e.message,
    ) ||
    /LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOREPLICAS|All sentinels are unreachable/.test(e.message)
  );
}

/** Resolves once the client is ready (or rejects after timeoutMs). */
export async function waitReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(t);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
