// One signed POST to the 5.7.3 gateway over the shared transport (../http), with retries.
// Retrying is safer here than on Kyanda: every request carries order_id, and the 5.7.3 reference promises
// "requests with identical nonce … will have identical responses and the operation won't be
// repeated". So a timeout or reset after sending is re-sent with the same body, not given up;
// only the caller's own abort (the USSD deadline) stops early, and that outcome is "unknown".
import type { Logger } from '../../log.js';
import { backoffDelay, RateLimitWaitError, serverWaitMs, sleep, TransportError, type HttpTransport, type Priority, type RateLimiter } from '../http/index.js';
import type { GatewayError } from '../types.js';
import { pagErrors } from './errors.js';
import { asReply, type PagReply } from './replies.js';
import { signBody } from './signature.js';

export interface ExchangeDeps {
  transport: HttpTransport;
  limiter: RateLimiter;
  logger: Logger;
  secret: string;
  publicId: string;
  maxAttempts: number;
  retryBaseMs: number;
  rateWaitMs: number;
}

export type Outcome =
  { type: 'reply'; httpStatus: number; reply: PagReply } | { type: 'unsent'; error: GatewayError } | { type: 'unknown'; error: GatewayError };

export type PagPath = 'payment_c2b' | 'payment_b2c' | 'status';

/** `priority`: the call's class in the shared rate limiter (default money). */
/** `beforeSend`: once, with a slot held, before the first transmission (CallOptions.beforeSend). */
export async function exchange(
  deps: ExchangeDeps,
  path: PagPath,
  body: Record<string, unknown>,
  signal?: AbortSignal,
  priority?: Priority,
  beforeSend?: () => Promise<void>,
): Promise<Outcome> {
  const signed = signBody(body, deps.secret);
  const url = `/${encodeURIComponent(deps.publicId)}/${path}`;
  // An earlier attempt may have been processed (a send whose answer was lost, a 5xx). Once it is
  // true no later answer may make the outcome "unsent": a 429 refused only the re-send, and
  // calling that "failed" would let the caller pay again under a new reference.
  let maybeDone = false;
  let last: Outcome = { type: 'unsent', error: pagErrors.network('no attempt made') };
  for (let attempt = 1; attempt <= deps.maxAttempts; attempt++) {
    let waitMs = backoffDelay(attempt, { baseMs: deps.retryBaseMs, maxMs: deps.retryBaseMs * 16 });
    try {
      await deps.limiter.acquire(signal, priority);
      if (beforeSend) {
        // Throws as a plain Error: counted below as "this attempt was not sent".
        await beforeSend();
        beforeSend = undefined;
      }
      const res = await deps.transport.request({ method: 'POST', path: url, json: signed, ...(signal ? { signal } : {}) });
      const reply = asReply(res.json);
      if (res.status === 429 || res.status >= 500) {
        deps.logger.warn({ gateway: 'pag', path, http: res.status, attempt }, 'gateway busy');
        // 429 means not processed; a 5xx might have been, so it stays "unknown" if it persists.
        if (res.status !== 429) maybeDone = true;
        last = !maybeDone
          ? { type: 'unsent', error: pagErrors.http(429) }
          : res.status === 429
            ? { type: 'unknown', error: pagErrors.outcomeUnknown('an earlier attempt may have been processed; then HTTP 429') }
            : { type: 'unknown', error: pagErrors.http(res.status) };
        waitMs = Math.min(deps.rateWaitMs, serverWaitMs(res.headers) ?? waitMs);
      } else if (!reply) {
        last = { type: 'unknown', error: pagErrors.badReply(`HTTP ${res.status}, not a JSON object`) };
        return last;
      } else {
        deps.logger.debug({ gateway: 'pag', path, http: res.status, status: reply.status, ms: Math.round(res.elapsedMs) }, 'gateway reply');
        return { type: 'reply', httpStatus: res.status, reply };
      }
    } catch (e) {
      if (e instanceof RateLimitWaitError) {
        const error = pagErrors.network('client-side rate limit: no slot in time');
        error.retryAfterMs = e.retryInMs;
        return maybeDone
          ? { type: 'unknown', error: pagErrors.outcomeUnknown('an earlier attempt may have been processed; then no rate-limit slot') }
          : { type: 'unsent', error };
      }
      if (!(e instanceof TransportError)) {
        // Only the limiter (Redis) or an abort while waiting for it get here: this attempt was not sent.
        const why = signal?.aborted ? 'aborted' : `rate limiter unavailable: ${(e as Error).message}`;
        return maybeDone ? { type: 'unknown', error: pagErrors.outcomeUnknown(why) } : { type: 'unsent', error: pagErrors.network(why) };
      }
      maybeDone ||= e.sent;
      deps.logger.warn({ gateway: 'pag', path, kind: e.kind, errCode: e.code, sent: e.sent, attempt }, 'gateway transport error');
      last = maybeDone ? { type: 'unknown', error: pagErrors.outcomeUnknown(e.message) } : { type: 'unsent', error: pagErrors.network(e.message) };
      if (e.kind === 'aborted') return last;
    }
    if (attempt < deps.maxAttempts) {
      try {
        await sleep(waitMs, signal);
      } catch {
        return last;
      }
    }
  }
  return last;
}
