// Waiting helpers shared by gateway adapters: jittered exponential backoff, server-given
// wait hints (Retry-After / X-RateLimit-Reset) and a sleep that honours an AbortSignal.

export interface BackoffOptions {
  /** First delay; attempt n waits about base * 2^(n-1). Tests set it small. */
  baseMs: number;
  /** Cap for one delay. */
  maxMs: number;
}

/**
 * "Equal jitter": half fixed, half random, so a crowd of clients that failed together
 * spreads out but every client still waits at least half the nominal delay.
 * attempt is 1 for the first retry.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const nominal = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * How long the server asked us to wait, in ms, or undefined when it did not say.
 * Retry-After may be seconds or an HTTP date; X-RateLimit-Reset is epoch seconds.
 */
export function serverWaitMs(headers: Record<string, string | undefined>, now: number = Date.now()): number | undefined {
  const ra = headers['retry-after'];
  if (ra !== undefined && ra.trim() !== '') {
    const secs = Number(ra);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const reset = headers['x-ratelimit-reset'];
  if (reset !== undefined && reset.trim() !== '') {
    const epoch = Number(reset);
    if (Number.isFinite(epoch)) return Math.max(0, epoch * 1000 - now);
  }
  return undefined;
}

/** Resolves after ms, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(t);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}
