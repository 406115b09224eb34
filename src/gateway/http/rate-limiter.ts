// A request-rate limit shared by every instance through Redis: sliding window logs (sorted sets)
// for the per-minute limit and, when configured, a rolling 24-hour cap, checked and updated by
// one Lua script per decision so two instances can never both take the last slot. Callers wait
// for a slot (bounded, abortable) instead of failing.
//
// Priorities. The gateway's allowance is shared by money steps, receipts/notices, one-time codes
// and bulk SMS batches, in that order of importance. Two rules, both inside the same script:
// - waiting callers are registered per class; a caller may take a slot only if enough slots are
//   free for every waiting caller of a higher class as well (nobody overtakes a more important
//   caller that is already waiting, whichever instance it waits on);
// - each lower class leaves a share of the window free for the classes above it
//   (reservePct × 1 for notices, × 2 for OTPs, × 3 for bulk), so a money step arriving into a
//   window that bulk traffic would otherwise have filled finds a slot at once.
// A waiter's registration carries a lease (the time of its next poll plus a margin), so a caller
// that died or gave up stops holding others back when the lease runs out; one that gives up
// cleanly removes itself.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from './retry.js';

export type Priority = 'money' | 'notice' | 'otp' | 'bulk';
/** Highest first; the index + 1 is the class number the script uses. */
export const PRIORITIES: readonly Priority[] = ['money', 'notice', 'otp', 'bulk'];

/** How long past its next poll a waiter keeps holding slots back. */
const LEASE_MS = 2000;

// KEYS: minute log, day log, waiters of money, notice, otp, bulk (scores = lease expiry).
// ARGV: limit, windowMs, member (also the waiter id), class (1..4), dayLimit (0 = none),
//       dayWindowMs, reservePct, leaseMs, budgetMs (longest wait the caller accepts).
// Uses the Redis server clock so instances with skewed clocks still agree.
// Returns {0, ''} when a slot was taken, else {ms until it is worth asking again, why} where why
// is 'minute' or 'day' (the window that is full for this class).
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local me = ARGV[3]
local cls = tonumber(ARGV[4])
local dayLimit = tonumber(ARGV[5])
local dayWindow = tonumber(ARGV[6])
local pct = tonumber(ARGV[7])
local ahead = 0
for i = 1, cls - 1 do
  redis.call('ZREMRANGEBYSCORE', KEYS[2 + i], '-inf', now)
  ahead = ahead + redis.call('ZCARD', KEYS[2 + i])
end
-- How many entries must leave a log before this caller may add one: it needs a slot for itself,
-- one for each higher waiter, and its class's reserve left free.
local function short(key, lim, span)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local used = redis.call('ZCARD', key)
  local k = ahead + 1 + math.floor(lim * pct * (cls - 1) / 100) - (lim - used)
  if k <= 0 then return 0 end
  if used == 0 then return 50 end
  local idx = math.min(k, used) - 1
  local e = redis.call('ZRANGE', key, idx, idx, 'WITHSCORES')
  local w = tonumber(e[2]) + span - now
  if w < 1 then w = 1 end
  return w
end
local wait = short(KEYS[1], limit, window)
local why = 'minute'
if dayLimit > 0 then
  local dw = short(KEYS[2], dayLimit, dayWindow)
  if dw > wait then wait = dw; why = 'day' end
end
local mine = KEYS[2 + cls]
if wait == 0 then
  redis.call('ZADD', KEYS[1], now, me)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  if dayLimit > 0 then
    redis.call('ZADD', KEYS[2], now, me)
    redis.call('PEXPIRE', KEYS[2], dayWindow + 1000)
  end
  redis.call('ZREM', mine, me)
  return {0, ''}
end
if wait <= tonumber(ARGV[9]) then
  local lease = now + wait + tonumber(ARGV[8])
  redis.call('ZADD', mine, lease, me)
  redis.call('PEXPIRE', mine, wait + tonumber(ARGV[8]) + 1000)
else
  redis.call('ZREM', mine, me)
end
return {wait, why}
`;

export interface RateLimiterOptions {
  redis: Redis;
  /** Full Redis key of the minute log (already prefixed); the day log and waiters derive from it. */
  key: string;
  /** Requests allowed per window across all instances. */
  limit: number;
  /** Window length; 60 000 for "per minute". */
  windowMs?: number;
  /** Requests allowed per rolling day (dayWindowMs); 0 or unset = no daily cap. */
  dayLimit?: number;
  /** Length of the "day"; 86 400 000 unless a test shortens it. */
  dayWindowMs?: number;
  /** Percent of each window every lower class leaves to the ones above (see the file comment). */
  reservePct?: number;
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
  /** Told how each acquire ended (metrics): a slot after waitedMs, or given up. */
  onResult?: (r: { priority: Priority; waitedMs: number; ok: boolean; why?: string }) => void;
}

export class RateLimitWaitError extends Error {
  override readonly name = 'RateLimitWaitError';
  constructor(
    readonly waitedMs: number,
    /** How long the limiter said the next slot for this caller is away (ms). */
    readonly retryInMs = 0,
    /** Which window is full for this caller: 'minute' or 'day'. */
    readonly why = 'minute',
  ) {
    super(`no rate-limit slot within ${waitedMs} ms${why === 'day' ? ' (daily cap)' : ''}`);
  }
}

export interface RateLimiter {
  /**
   * Takes one slot for a caller of this priority (default 'money'), waiting while none is free
   * for it. Rejects with RateLimitWaitError after maxWaitMs, or with the signal's reason when it
   * aborts. Resolves with the ms waited.
   */
  acquire(signal?: AbortSignal, priority?: Priority): Promise<number>;
}

interface ScriptRedis extends Redis {
  gatewayRateAcquire(...args: (string | number)[]): Promise<[number, string]>;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const windowMs = opts.windowMs ?? 60_000;
  const dayWindowMs = opts.dayWindowMs ?? 86_400_000;
  const dayLimit = opts.dayLimit ?? 0;
  const reservePct = opts.reservePct ?? 0;
  const maxWaitMs = opts.maxWaitMs ?? windowMs;
  const redis = opts.redis as ScriptRedis;
  const keys = [opts.key, `${opts.key}:day`, ...PRIORITIES.map((p) => `${opts.key}:wait:${p}`)];
  // defineCommand uses EVALSHA with an EVAL fallback, so the script is sent once per connection.
  if (typeof redis.gatewayRateAcquire !== 'function') {
    redis.defineCommand('gatewayRateAcquire', { numberOfKeys: 6, lua: SCRIPT });
  }
  return {
    async acquire(signal?: AbortSignal, priority: Priority = 'money'): Promise<number> {
      const started = Date.now();
      const cls = PRIORITIES.indexOf(priority) + 1 || 1;
      const me = randomUUID();
      let registered = false;
      const done = (ok: boolean, why?: string): number => {
        const waitedMs = Date.now() - started;
        opts.onResult?.({ priority, waitedMs, ok, ...(why ? { why } : {}) });
        return waitedMs;
      };
      try {
        for (;;) {
          let wait: number;
          let why: string;
          try {
            const waited = Date.now() - started;
            [wait, why] = await redis.gatewayRateAcquire(
              ...keys, opts.limit, windowMs, me, cls, dayLimit, dayWindowMs, reservePct, LEASE_MS, Math.max(0, maxWaitMs - waited),
            );
            wait = Number(wait);
          } catch (e) {
            if (opts.failOpen === false) throw e;
            opts.onError?.(e instanceof Error ? e : new Error(String(e)));
            return done(true);
          }
          if (wait === 0) {
            registered = false; // the script took us off the waiting list with the slot
            return done(true);
          }
          const waited = Date.now() - started;
          if (waited + wait > maxWaitMs) {
            registered = false; // the script does not register a caller that will not wait
            done(false, why);
            throw new RateLimitWaitError(waited, wait, why);
          }
          registered = true;
          try {
            // A little jitter so waiting instances do not all retry on the same millisecond.
            await sleep(wait + Math.floor(Math.random() * 20), signal);
          } catch (e) {
            done(false, 'aborted');
            throw e;
          }
        }
      } finally {
        // Gave up while registered (aborted): stop holding lower classes back now rather than
        // when the lease runs out.
        if (registered) void redis.zrem(keys[1 + cls]!, me).catch(() => 0);
      }
    },
  };
}
