// A request-rate limit shared by every instance through Redis: a sliding window log in one
// sorted set, checked and updated by one Lua script so two instances can never both take the
// last slot. Callers wait for a slot (bounded, abortable) instead of failing.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from './retry.js';

// KEYS[1] = window log; ARGV = limit, windowMs, member.
// Uses the Redis server clock so instances with skewed clocks still agree.
// Returns 0 when a slot was taken, else the ms until the oldest entry leaves the window.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
`;

export interface RateLimiterOptions {
  redis: Redis;
  /** Full Redis key (already prefixed, e.g. app.key('ratelimit', 'kyanda', merchant)). */
  key: string;
  /** Requests allowed per window across all instances. */
  limit: number;
  /** Window length; 60 000 for "per minute". */
  windowMs?: number;
  /** Longest a caller waits for a slot before RateLimitWaitError. */
  maxWaitMs?: number;
  /**
   * When Redis cannot be asked (down, not yet connected): true (default) lets the call through,
   * since a payment must not stop because the limiter is unreachable and the gateway's own 429
   * still protects the account; false rethrows the Redis error.
   */
  failOpen?: boolean;
  /** Told about each Redis failure (log it); never about waits. */
  onError?: (err: Error) => void;
}

export class RateLimitWaitError extends Error {
  override readonly name = 'RateLimitWaitError';
  constructor(readonly waitedMs: number) {
    super(`no rate-limit slot within ${waitedMs} ms`);
  }
}

export interface RateLimiter {
  /**
   * Takes one slot, waiting while the window is full. Rejects with RateLimitWaitError after
   * maxWaitMs, or with the signal's reason when it aborts. Resolves with the ms waited.
   */
  acquire(signal?: AbortSignal): Promise<number>;
}

interface ScriptRedis extends Redis {
  gatewayRateLimit(key: string, limit: number, windowMs: number, member: string): Promise<number>;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const windowMs = opts.windowMs ?? 60_000;
  const maxWaitMs = opts.maxWaitMs ?? windowMs;
  const redis = opts.redis as ScriptRedis;
  // defineCommand uses EVALSHA with an EVAL fallback, so the script is sent once per connection.
  if (typeof redis.gatewayRateLimit !== 'function') {
    redis.defineCommand('gatewayRateLimit', { numberOfKeys: 1, lua: SCRIPT });
  }
  return {
    async acquire(signal?: AbortSignal): Promise<number> {
      const started = Date.now();
      for (;;) {
        let wait: number;
        try {
          wait = Number(await redis.gatewayRateLimit(opts.key, opts.limit, windowMs, randomUUID()));
        } catch (e) {
          if (opts.failOpen === false) throw e;
          opts.onError?.(e instanceof Error ? e : new Error(String(e)));
          return Date.now() - started;
        }
        if (wait === 0) return Date.now() - started;
        const waited = Date.now() - started;
        if (waited + wait > maxWaitMs) throw new RateLimitWaitError(waited);
        // A little jitter so waiting instances do not all retry on the same millisecond.
        await sleep(wait + Math.floor(Math.random() * 20), signal);
      }
    },
  };
}
