// One logical call = one or more HTTP attempts. Retries happen only where they are safe:
// - the request never left (connect refused/timed out): any endpoint;
// - HTTP 429: wait what the server says (Retry-After, else X-RateLimit-Reset), within a budget;
// - platform codes marked retryable (1105, 1106; 5000 on reads only): jittered exponential backoff;
// - a read/registration ("query") whose answer was lost: idempotent, so resend.
// A money/message call that may have reached the gateway is never re-sent here: the caller gets
// `unknown` and looks it up. That includes a 5000 answer (UNKNOWN_OUTCOME_CODES).
import type { Logger } from '../../log.js';
import { GatewayError } from '../types.js';
import { backoffDelay, serverWaitMs, sleep, TransportError, RateLimitWaitError, type HttpTransport, type Priority, type RateLimiter } from '../http/index.js';
import { kyandaError, UNKNOWN_OUTCOME_CODES } from './codes.js';
import type { BuildContext, Endpoint } from './endpoints.js';
import { interpret, type Reply } from './replies.js';
import { buildWireBody, type WireOptions } from './wire.js';

export interface ExchangeDeps {
  transport: HttpTransport;
  limiter: RateLimiter;
  logger: Logger;
  apiKey: string;
  secret: string;
  ctx: BuildContext;
  maxAttempts: number;
  retryBaseMs: number;
  /** Budget for honouring 429 waits in one call. */
  rateWaitMs: number;
}

export type Outcome =
  /** The gateway answered (ok, or an error that retrying cannot fix / retries exhausted). */
  | { type: 'reply'; reply: Reply; attempts: number; sentAttempts: number }
  /** Refused client-side, or never left our process: definitely not done. */
  | { type: 'unsent'; error: GatewayError; attempts: number; sentAttempts: number }
  /** Sent, no answer: may or may not have happened. */
  | { type: 'unknown'; error: GatewayError; attempts: number; sentAttempts: number; cause?: TransportError };

export interface ExchangeOptions extends WireOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Class of the call in the shared rate limiter (default money). */
  priority?: Priority;
  /** See CallOptions.beforeSend: once, with a slot held, before the first transmission. */
  beforeSend?: () => Promise<void>;
}

const MAX_429 = 5;

export async function exchange<Req>(d: ExchangeDeps, ep: Endpoint<Req>, req: Req, opts: ExchangeOptions = {}): Promise<Outcome> {
  let body;
  try {
    body = buildWireBody(ep, req, d.ctx, d.secret, opts);
  } catch (e) {
    if (e instanceof GatewayError) return { type: 'unsent', error: e, attempts: 0, sentAttempts: 0 };
    throw e;
  }
  const path = ep.path(req);
  const started = Date.now();
  let attempts = 0;
  let sentAttempts = 0;
  let hits429 = 0;
  let waited429 = 0;
  let marked = !opts.beforeSend;
  let last: Outcome | undefined;
  const log = (o: Outcome): Outcome => {
    const code = o.type === 'reply' ? (o.reply.ok ? String(o.reply.json.status_code ?? o.reply.http) : o.reply.error.code) : o.error.code;
    d.logger.info(
      { gateway: 'kyanda', endpoint: ep.name, outcome: o.type, code, attempts: o.attempts, ms: Date.now() - started, reference: opts.reference },
      'gateway call',
    );
    return o;
  };
  const backoff = async (): Promise<boolean> => {
    const delay = backoffDelay(attempts, { baseMs: d.retryBaseMs, maxMs: d.retryBaseMs * 32 });
    d.logger.debug({ gateway: 'kyanda', endpoint: ep.name, attempt: attempts, delayMs: delay, reference: opts.reference }, 'gateway retry');
    try {
      await sleep(delay, opts.signal);
      return true;
    } catch {
      return false; // aborted while waiting: nothing in flight, report the last answer
    }
  };

  for (;;) {
    try {
      await d.limiter.acquire(opts.signal, opts.priority);
    } catch (e) {
      if (e instanceof RateLimitWaitError || opts.signal?.aborted) {
        const error = kyandaError('RATE_LIMITED', e instanceof Error ? e.message : 'aborted');
        if (e instanceof RateLimitWaitError) error.retryAfterMs = e.retryInMs;
        return log(last ?? { type: 'unsent', error, attempts, sentAttempts });
      }
      // Redis trouble must not stop payments: the gateway's own 429 still protects the account.
      d.logger.warn({ gateway: 'kyanda', err: (e as Error).message }, 'rate limiter unavailable; sending without it');
    }
    if (!marked) {
      try {
        await opts.beforeSend!();
        marked = true;
      } catch (e) {
        return log({ type: 'unsent', error: kyandaError('NETWORK', `not sent: ${(e as Error).message}`), attempts, sentAttempts });
      }
    }
    attempts++;
    let res;
    try {
      res = await d.transport.request({
        method: ep.method,
        path,
        headers: { apiKey: d.apiKey },
        json: body,
        signal: opts.signal,
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
      sentAttempts++;
    } catch (e) {
      const te = e instanceof TransportError ? e : new TransportError(String(e), 'UNKNOWN', true, 'other', e);
      if (te.sent) sentAttempts++;
      const canRetry = attempts < d.maxAttempts && !opts.signal?.aborted;
      if (!te.sent) {
        last = { type: 'unsent', error: kyandaError(te.kind === 'aborted' ? 'TIMEOUT' : 'NETWORK', te.message), attempts, sentAttempts };
        if (canRetry && te.kind !== 'aborted' && (await backoff())) continue;
        return log(last);
      }
      if (ep.kind === 'query' && canRetry && (await backoff())) continue;
      const code = te.kind === 'timeout' || te.kind === 'aborted' ? 'TIMEOUT' : 'NETWORK';
      return log({ type: 'unknown', error: kyandaError(code, te.message), attempts, sentAttempts, cause: te });
    }

    const reply = interpret(res);
    if (res.status === 429) {
      hits429++;
      const hint = serverWaitMs(res.headers) ?? backoffDelay(hits429, { baseMs: d.retryBaseMs, maxMs: d.retryBaseMs * 32 });
      last = { type: 'reply', reply: { ok: false, error: kyandaError('RATE_LIMITED', 'HTTP 429', 429), json: reply.json, http: 429 }, attempts, sentAttempts };
      if (hits429 > MAX_429 || waited429 + hint > d.rateWaitMs) return log(last);
      attempts--; // a 429 was refused before processing: it does not use up a retry
      waited429 += hint;
      try {
        await sleep(hint, opts.signal);
      } catch {
        return log(last);
      }
      continue;
    }
    if (!reply.ok && reply.ambiguous && ep.kind !== 'query') {
      return log({ type: 'unknown', error: kyandaError('UNCONFIRMED', reply.error.message, res.status), attempts, sentAttempts });
    }
    if (!reply.ok && ep.kind !== 'query' && UNKNOWN_OUTCOME_CODES.has(reply.error.code)) {
      // Reached the gateway and it could not say what happened: never the same money call twice.
      const e = reply.error;
      return log({ type: 'unknown', error: new GatewayError(e.code, e.message, false, e.userMessage, e.httpStatus), attempts, sentAttempts });
    }
    last = { type: 'reply', reply, attempts, sentAttempts };
    if (!reply.ok && reply.error.retryable && attempts < d.maxAttempts && (await backoff())) continue;
    return log(last);
  }
}
