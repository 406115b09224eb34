// Shared gateway transport: imported by the Kyanda and PAG adapters. Keep this API stable.
export { createTransport, TransportError, classify, type HttpTransport, type HttpRequest, type HttpResponse, type TransportOptions } from './transport.js';
export { createRateLimiter, RateLimitWaitError, PRIORITIES, type Priority, type RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
export { backoffDelay, serverWaitMs, sleep, abortReason, type BackoffOptions } from './retry.js';
export { gatewayHttp, type GatewayHttpDeps } from './wiring.js';
