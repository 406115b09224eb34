// The transport and the shared Redis rate limiter of one gateway adapter, from the service's
// GATEWAY_* settings. One place for both adapters (Kyanda and PAG built these identically).
import type { Dispatcher } from 'undici';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../http/metrics.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { createTransport, type HttpTransport } from './transport.js';

export interface GatewayHttpDeps {
  config: Pick<Config, 'GATEWAY_CONNECT_TIMEOUT_MS' | 'GATEWAY_TIMEOUT_MS' | 'GATEWAY_RATE_LIMIT_PER_MIN' | 'GATEWAY_RATE_WAIT_MS'> &
    Partial<Pick<Config, 'GATEWAY_RATE_LIMIT_PER_DAY' | 'GATEWAY_RATE_RESERVE_PCT'>>;
  redis: Redis;
  logger: Logger;
  /** The service's registry (AppContext.metrics); absent in unit tests. */
  metrics?: Metrics;
  dispatcher?: Dispatcher;
  rateWindowMs?: number;
  /** The daily cap's window; 24 h unless a test shortens it. */
  rateDayWindowMs?: number;
}

/** `limiterKey`: the full Redis key of the account's window (one per API key / merchant). */
export function gatewayHttp(app: GatewayHttpDeps, baseUrl: string, gateway: string, limiterKey: string): { transport: HttpTransport; limiter: RateLimiter } {
  const c = app.config;
  const m = app.metrics;
  const transport = createTransport({
    baseUrl,
    dispatcher: app.dispatcher,
    connectTimeoutMs: c.GATEWAY_CONNECT_TIMEOUT_MS,
    timeoutMs: c.GATEWAY_TIMEOUT_MS,
    // Latency and outcome of every call on the wire, per endpoint: an HTTP status class, or how
    // it failed without one (timeout, connect, reset, aborted).
    ...(m
      ? {
          onDone: (r) =>
            m.observe(
              'gateway_request_seconds',
              r.ms,
              { gateway, endpoint: r.path, outcome: r.status ? `${Math.floor(r.status / 100)}xx` : (r.failure ?? 'other') },
              'Gateway calls on the wire: latency by endpoint and outcome (HTTP status class or failure kind)',
            ),
        }
      : {}),
  });
  const limiter = createRateLimiter({
    redis: app.redis,
    key: limiterKey,
    limit: c.GATEWAY_RATE_LIMIT_PER_MIN,
    windowMs: app.rateWindowMs ?? 60_000,
    dayLimit: c.GATEWAY_RATE_LIMIT_PER_DAY ?? 0,
    dayWindowMs: app.rateDayWindowMs ?? 86_400_000,
    reservePct: c.GATEWAY_RATE_RESERVE_PCT ?? 0,
    maxWaitMs: c.GATEWAY_RATE_WAIT_MS,
    onError: (err) => app.logger.warn({ gateway, err: err.message }, 'rate limiter unavailable; sending without it'),
    ...(m
      ? {
          onResult: (r) => {
            m.observe('gateway_rate_wait_seconds', r.waitedMs, { gateway, priority: r.priority }, 'Time gateway calls waited for a shared rate-limit slot');
            if (!r.ok)
              m.inc(
                'gateway_rate_limited_total',
                { gateway, priority: r.priority, why: r.why ?? 'minute' },
                1,
                'Gateway calls that gave up waiting for a rate-limit slot',
              );
          },
        }
      : {}),
  });
  return { transport, limiter };
}
