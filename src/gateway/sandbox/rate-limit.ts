// Per-apiKey requests per minute. Each key's window starts with its first request (not on the
// wall-clock minute), so a burst never straddles two windows by accident.
export interface RateVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds when the window resets. */
  reset: number;
  retryAfterS: number;
}

const WINDOW_MS = 60_000;

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: number) {}

  hit(key: string, now = Date.now()): RateVerdict {
    let w = this.windows.get(key);
    if (!w || now >= w.start + WINDOW_MS) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const resetMs = w.start + WINDOW_MS;
    return {
      allowed: w.count <= this.limit,
      limit: this.limit,
      remaining: Math.max(0, this.limit - w.count),
      reset: Math.ceil(resetMs / 1000),
      retryAfterS: Math.max(1, Math.ceil((resetMs - now) / 1000)),
    };
  }

  reset(): void {
    this.windows.clear();
  }
}
