// Waiting in tests: a plain pause, and bounded polling for a condition.

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitOptions {
  /** Give up (throw) after this long; default 5000 ms. */
  timeoutMs?: number;
  /** Ask again this often; default 25 ms. */
  everyMs?: number;
  /** Named in the error when the wait gives up. */
  what?: string;
}

/**
 * Polls `fn` until it returns a truthy value, which it returns; throws once the wait is over.
 * `opts` as a number is the timeout in ms.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions | number = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, everyMs = 25, what = 'a condition' } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
