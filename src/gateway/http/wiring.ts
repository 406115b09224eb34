// The transport and the shared Redis rate limiter of one gateway adapter, from the service's
// GATEWAY_* settings. One place for both adapters (Kyanda and PAG built these identically).
import type { Dispatcher } from 'undici';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { createTransport, type HttpTransport } from './transport.js';

export interface GatewayHttpDeps {
  config: Pick<Config, 'GATEWAY_CONNECT_TIMEOUT_MS' | 'GATEWAY_TIMEOUT_MS' | 'GATEWAY_RATE_LIMIT_PER_MIN' | 'GATEWAY_RATE_WAIT_MS'>;
  redis: Redis;
  logger: Logger;
  dispatcher?: Dispatcher;
  rateWindowMs?: number;
}

/** `limiterKey`: the full Redis key of the account's window (one per API key / merchant). */
export function gatewayHttp(app: GatewayHttpDeps, baseUrl: string, gateway: string, limiterKey: string): { transport: HttpTransport; limiter: RateLimiter } {
  const c = app.config;
  const transport = createTransport({
    baseUrl, dispatcher: app.dispatcher, connectTimeoutMs: c.GATEWAY_CONNECT_TIMEOUT_MS, timeoutMs: c.GATEWAY_TIMEOUT_MS,
  });
  const limiter = createRateLimiter({
    redis: app.redis,
    key: limiterKey,
    limit: c.GATEWAY_RATE_LIMIT_PER_MIN,
    windowMs: app.rateWindowMs ?? 60_000,
    maxWaitMs: c.GATEWAY_RATE_WAIT_MS,
    onError: (err) => app.logger.warn({ gateway, err: err.message }, 'rate limiter unavailable; sending without it'),
  });
  return { transport, limiter };
}
