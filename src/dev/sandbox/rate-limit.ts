// Per-apiKey limits of a sandbox account, as the gateway's documentation states them: 60 requests
// per minute and 5,000 per day (a business account: 300 per minute, no daily cap). Each key's
// windows start with its first request (not on the wall-clock minute or midnight, which the docs
// do not define), so a burst never straddles two windows by accident. Every request counts
// against the minute; only requests let through count against the day, so a client that keeps
// knocking after a 429 does not push its own day further out.
export interface RateVerdict {
  allowed: boolean;
  /** The X-RateLimit-* values of the window that binds: the one with fewer requests left. */
  limit: number;
  remaining: number;
  /** Epoch seconds when that window resets. */
  reset: number;
  retryAfterS: number;
  /** Which limit refused the request (when not allowed). */
  window: 'minute' | 'day';
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

interface Window {
  start: number;
  count: number;
}

export class RateLimiter {
  private minutes = new Map<string, Window>();
  private days = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly dayLimit = Infinity,
  ) {}

  hit(key: string, now = Date.now()): RateVerdict {
    const m = current(this.minutes, key, now, MINUTE_MS);
    const d = current(this.days, key, now, DAY_MS);
    m.count++;
    const minuteOk = m.count <= this.limit;
    const dayOk = d.count < this.dayLimit;
    if (minuteOk && dayOk) d.count++;
    const mLeft = Math.max(0, this.limit - m.count);
    const dLeft = Math.max(0, this.dayLimit - d.count);
    // The day binds when it is what refused, or when it has fewer requests left than the minute.
    const byDay = minuteOk ? !dayOk || dLeft < mLeft : false;
    const w = byDay ? d : m;
    const resetMs = w.start + (byDay ? DAY_MS : MINUTE_MS);
    return {
      allowed: minuteOk && dayOk,
      limit: byDay ? this.dayLimit : this.limit,
      remaining: byDay ? dLeft : mLeft,
      reset: Math.ceil(resetMs / 1000),
      retryAfterS: Math.max(1, Math.ceil((resetMs - now) / 1000)),
      window: byDay ? 'day' : 'minute',
    };
  }

  reset(): void {
    this.minutes.clear();
    this.days.clear();
  }
}

function current(map: Map<string, Window>, key: string, now: number, span: number): Window {
  let w = map.get(key);
  if (!w || now >= w.start + span) {
    w = { start: now, count: 0 };
    map.set(key, w);
  }
  return w;
}
