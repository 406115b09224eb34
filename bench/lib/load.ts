// Closed-loop load: `concurrency` virtual subscribers, each walking whole sessions one request
// at a time (the next request only after the previous reply, as a handset does), over an undici
// Pool with keep-alive, like an aggregator's connection pool. Only requests started after the
// warm-up are measured; when the time is up every subscriber stops after its current request.
import { Pool } from 'undici';

export interface Hop {
  /** url-encoded form body */
  body: string;
  /** the reply must start with this (otherwise it counts as an error) */
  expect: string;
}

export interface LoadOptions {
  url: string;
  path: string;
  concurrency: number;
  warmupS: number;
  durationS: number;
  /** The requests of session number n. */
  session(n: number): Hop[];
  /** Called when measuring starts and ends (e.g. to read CPU counters). */
  onMeasure?(phase: 'start' | 'end'): Promise<void> | void;
  /** Ctrl-C: drop every connection at once so the targets can stop without waiting. */
  signal?: AbortSignal;
}

export interface LoadResult {
  requests: number;
  sessions: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  /** milliseconds, ascending */
  latencies: Float64Array;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(o.url, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  // A function, not a comparison inline: the phase changes while a subscriber awaits.
  const done = () => phase === 'done';
  let next = 0;
  let requests = 0;
  let sessions = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const lat: number[] = [];
  const fail = (what: string) => {
    if (errorSamples.length < 5) errorSamples.push(what);
  };

  async function subscriber(): Promise<void> {
    while (!done()) {
      const hops = o.session(next++);
      let completed = true;
      for (const hop of hops) {
        if (done()) return;
        const measured = phase === 'measure';
        const t0 = performance.now();
        let ok = false;
        try {
          const res = await pool.request({
            path: o.path,
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: hop.body,
          });
          const text = await res.body.text();
          ok = res.statusCode === 200 && text.startsWith(hop.expect);
          if (!ok && measured) fail(`HTTP ${res.statusCode} ${JSON.stringify(text.slice(0, 80))} (wanted ${JSON.stringify(hop.expect)})`);
        } catch (err) {
          if (measured) fail((err as Error).message);
        }
        const ms = performance.now() - t0;
        if (measured) {
          requests++;
          lat.push(ms);
          if (!ok) errors++;
        }
        if (!ok) {
          completed = false;
          break; // a broken session is abandoned, as a subscriber would hang up
        }
      }
      if (completed && phase === 'measure') sessions++;
    }
  }

  // Listeners come off the shared signal again: the benchmark runs several loads on it.
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        o.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  const onAbort = () => {
    phase = 'done';
    void pool.destroy();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  let t0 = 0;
  const users = Array.from({ length: o.concurrency }, () => subscriber());
  await sleep(o.warmupS * 1000);
  if (o.signal?.aborted) throw new Error('interrupted');
  await o.onMeasure?.('start');
  phase = 'measure';
  t0 = performance.now();
  await sleep(o.durationS * 1000);
  phase = 'done';
  await Promise.all(users);
  if (o.signal?.aborted) throw new Error('interrupted');
  const seconds = (performance.now() - t0) / 1000;
  await o.onMeasure?.('end');
  o.signal?.removeEventListener('abort', onAbort);
  await pool.close();
  return { requests, sessions, errors, errorSamples, seconds, latencies: Float64Array.from(lat).sort() };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
