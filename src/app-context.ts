// What every module receives: config, logger, Redis, the gateway, the action registry and the
// services other modules provide. Built once by startService (src/app.ts).
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Redis } from './redis.js';
import type { Gateway, TransactionUpdate } from './gateway/types.js';
import type { GatewayRoles } from './gateway/index.js';
import type { ActionRegistry } from './ussd/actions.js';
import type { Metrics } from './http/metrics.js';

/**
 * Sends and checks one-time codes (src/sms/otp.ts); used by /api/otp and agent activation.
 * `internal: true` is for the service's own purposes (agent-…): separate keys and quotas that
 * the HTTP API cannot reach, which refuses those purposes.
 */
export interface OtpService {
  send(phone: string, purpose: string, opts?: { ip?: string; internal?: boolean }): Promise<{ id: string; expiresAt: string }>;
  verify(phone: string, purpose: string, code: string, opts?: { internal?: boolean }): Promise<{ valid: true } | { valid: false; reason: string }>;
}

export interface AppContext {
  config: Config;
  logger: Logger;
  /** Fail-fast command connection (no offline queue). */
  redis: Redis;
  /**
   * Prefixes a key with REDIS_PREFIX: key('order', id) → "ussd:order:<id>"; in a Cluster a key
   * of a family that scripts touch together gets its hash tag: "ussd:{orders}:order:<id>"
   * (src/keys.ts). Modules take their key names from keyNames(app.key) there rather than joining
   * parts here; tests and one-off tools may call it directly.
   */
  key(...parts: string[]): string;
  /** REDIS_URL is a redis-cluster:// URL: key names carry hash tags. */
  cluster: boolean;
  /**
   * Set when shutdown begins: /readyz answers 503 so load balancers stop sending, while the
   * requests already sent are still served.
   */
  draining: boolean;
  /** A new connection suitable for BullMQ (maxRetriesPerRequest null). Closed by startService. */
  queueConnection(role?: 'producer' | 'worker'): Redis;
  /** BullMQ `prefix` option so every run/test has its own queues. */
  queuePrefix: string;
  /** The gateway named by GATEWAY (the SMS code still reaches it this way). */
  gateway: Gateway;
  /** The gateway of each role: collect (checkout), fulfil (vends, payouts), sms. */
  gateways: GatewayRoles;
  actions: ActionRegistry;
  metrics: Metrics;
  /** One-time codes, built by startService (the composition root) for the SMS API and agent actions. */
  otp: OtpService;
  /**
   * Set by the SMS module: takes a gateway notice about one of our own messages (an IPN or an
   * `sms.delivered` webhook) and records what it says about delivery.
   */
  smsNotices?: { record(u: TransactionUpdate, event: string): Promise<string> };
}

/**
 * A slice of the service. Lifecycle: init (all modules, in order) → routes → listen →
 * start (workers, timers) → … → stop (reverse order).
 */
export interface ServiceModule {
  name: string;
  init?(app: AppContext): Promise<void> | void;
  routes?(router: Router, app: AppContext): void;
  /**
   * Middleware mounted ahead of the router, for a hot route whose every microsecond counts
   * (POST /ussd). It must call next() for any request it does not serve; the same routes
   * should still be declared in routes() so the router answers 405 for other methods.
   */
  front?(app: AppContext): Middleware | undefined;
  /** After every module's init, before anything is served: throw to refuse start-up. */
  ready?(app: AppContext): Promise<void> | void;
  start?(app: AppContext): Promise<void> | void;
  stop?(): Promise<void> | void;
}
