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
import { loadLua } from '../../lib/lua.js';
import { rateLimitKeys } from '../../keys.js';

export type Priority = 'money' | 'notice' | 'otp' | 'bulk';
/** Highest first; the index + 1 is the class number the script uses. */
export const PRIORITIES: readonly Priority[] = ['money', 'notice', 'otp', 'bulk'];

/** How long past its next poll a waiter keeps holding slots back. */
const LEASE_MS = 2000;

const SCRIPT = loadLua(import.meta.url, 'rate-acquire');

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
  const names = rateLimitKeys(opts.key, PRIORITIES);
  // In the script's order: KEYS[1] minute, KEYS[2] day, KEYS[3..6] waiters by class.
  const keys = [names.minute, names.day, ...PRIORITIES.map((p) => names.wait[p])];
  // defineCommand uses EVALSHA with an EVAL fallback, so the script is sent once per connection.
  if (typeof redis.gatewayRateAcquire !== 'function') {
    redis.defineCommand('gatewayRateAcquire', { numberOfKeys: SCRIPT.numberOfKeys, lua: SCRIPT.source });
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
              ...keys,
              opts.limit,
              windowMs,
              me,
              cls,
              dayLimit,
              dayWindowMs,
              reservePct,
              LEASE_MS,
              Math.max(0, maxWaitMs - waited),
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
