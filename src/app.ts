// Composition root: builds the AppContext, mounts every module's routes on one Koa app,
// listens, then starts background work. Used by main.ts, worker.ts and the tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from './config.js';
import { createLogger, flushLogger, type Logger } from './log.js';
import { createQueueRedis, createRedis, waitReady, type Redis } from './redis.js';
import { ActionRegistry } from './ussd/actions.js';
import { Metrics } from './http/metrics.js';
import type { AppContext, ServiceModule } from './app-context.js';
import { createGateway } from './gateway/index.js';
import { healthModule } from './http/health.js';
import { sandboxModule } from './gateway/sandbox/module.js';
import { ussdModule } from './ussd/module.js';
import { paymentsModule } from './payments/module.js';
import { smsModule } from './sms/module.js';

export interface RunningService {
  url: string;
  app: AppContext;
  server: http.Server;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Serve HTTP (false for `npm run worker`). Default true. */
  http?: boolean;
  /** Start workers and timers (default: config.WORKERS). */
  workers?: boolean;
  /** Modules to run (default: all). Order matters: init and start run in this order. */
  modules?: ServiceModule[];
  logger?: Logger;
}

export function defaultModules(config: Config, serveHttp = true): ServiceModule[] {
  const mods: ServiceModule[] = [healthModule];
  if (config.embeddedSandbox && serveHttp) mods.push(sandboxModule());
  // sms before payments: payments' agent activation uses app.otp.
  mods.push(ussdModule(), smsModule(), paymentsModule());
  return mods;
}

export async function startService(config: Config, opts: StartOptions = {}): Promise<RunningService> {
  // The service's own logger is buffered (one line per USSD hop is on the hot path); a caller's
  // logger is used as given.
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL, undefined, { buffered: true });
  const redis = createRedis(config.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  try {
    await waitReady(redis, 5000);
  } catch (err) {
    // Keep serving: screens answer with a polite END and /readyz says not ready until Redis is back.
    logger.error({ err: (err as Error).message, url: config.REDIS_URL }, 'redis unreachable at start-up');
  }

  const queueConns: Redis[] = [];
  const modules = opts.modules ?? defaultModules(config, opts.http !== false);
  const koa = new Koa({ proxy: false }); // X-Forwarded-For is read only from TRUSTED_PROXIES (src/http/client-ip.ts)
  // koa.callback() composes the middleware present when called, so it is taken again once
  // every route is mounted; until then the gate below answers 503.
  let handler = koa.callback();
  const server = http.createServer((req, res) => void handler(req, res));
  server.keepAliveTimeout = 65_000; // longer than typical aggregator/LB idle timeouts
  server.headersTimeout = 66_000;

  let ready = false;
  koa.use(async (ctx, next) => {
    if (!ready) {
      ctx.status = 503;
      ctx.body = { error: 'starting' };
      return;
    }
    await next();
  });

  const serveHttp = opts.http !== false;
  if (serveHttp) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
  }
  const port = serveHttp ? (server.address() as AddressInfo).port : config.PORT;
  const selfUrl = `http://127.0.0.1:${port}`;
  // With PORT=0 (tests) the derived PUBLIC_URL must carry the real port.
  if (!config.publicUrlFromEnv && serveHttp) config.PUBLIC_URL = selfUrl;

  // Embedded, the gateway is ourselves at /sandbox; `npm run worker` reaches the service's sandbox.
  const gatewayBase = config.GATEWAY_URL ?? `${config.PUBLIC_URL}/sandbox`;
  const app: AppContext = {
    config,
    logger,
    redis,
    key: (...parts) => config.REDIS_PREFIX + parts.join(':'),
    queueConnection: () => {
      const c = createQueueRedis(config.REDIS_URL);
      c.on('error', (err) => logger.warn({ err: err.message }, 'queue redis error'));
      queueConns.push(c);
      return c;
    },
    queuePrefix: `${config.REDIS_PREFIX}bull`,
    gateway: undefined as never, // set just below; modules only read it after init
    actions: new ActionRegistry(),
    metrics: new Metrics(),
  };
  app.gateway = createGateway(app, gatewayBase);

  for (const m of modules) await m.init?.(app);
  const router = new Router();
  for (const m of modules) m.routes?.(router, app);
  koa.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      // Never a stack trace on the wire; the log keeps it.
      const status = (err as { status?: number }).status ?? 500;
      logger.error({ err, path: ctx.path, status }, 'request failed');
      ctx.status = status;
      ctx.body = { error: status >= 500 ? 'internal error' : (err as Error).message };
    }
  });
  for (const m of modules) {
    const mw = m.front?.(app);
    if (mw) koa.use(mw);
  }
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  handler = koa.callback();

  const startWorkers = opts.workers ?? config.WORKERS;
  const started: ServiceModule[] = [];
  for (const m of modules) {
    if (m.name !== 'sandbox' && !startWorkers) continue; // the sandbox's IPN timers always run
    await m.start?.(app);
    started.push(m);
  }
  ready = true;
  logger.info({ url: selfUrl, gateway: config.GATEWAY, gatewayUrl: gatewayBase, workers: startWorkers }, 'service started');

  let closed = false;
  return {
    url: selfUrl,
    app,
    server,
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      if (serveHttp) {
        server.closeIdleConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      for (const m of [...modules].reverse()) {
        try {
          await m.stop?.();
        } catch (err) {
          logger.warn({ err, module: m.name }, 'module stop failed');
        }
      }
      await app.gateway.close().catch(() => undefined);
      await Promise.all(queueConns.map((c) => c.quit().catch(() => c.disconnect())));
      await redis.quit().catch(() => redis.disconnect());
      flushLogger(logger);
    },
  };
}
