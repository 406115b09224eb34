// Composition root: builds the AppContext, mounts every module's routes on one Koa app,
// listens, then starts background work. Used by main.ts, worker.ts and the tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from './config.js';
import { createLogger, flushLogger, type Logger } from './log.js';
import { closeRedis, createQueueRedis, createRedis, isRedisUnavailable, waitReady, type Redis } from './redis.js';
import { ActionRegistry } from './ussd/actions.js';
import { Metrics } from './http/metrics.js';
import type { AppContext, ServiceModule } from './app-context.js';
import { createGateways } from './gateway/index.js';
import { healthModule } from './http/health.js';
import { loadSandboxModule } from './dev-sandbox.js';
import { ussdModule } from './ussd/module.js';
import { paymentsModule } from './payments/module.js';
import { checkGatewaySettings } from './gateway/startup-check.js';
import { smsModule } from './sms/module.js';
import { consoleModule } from './console/module.js';
import { createOtpService } from './sms/otp.js';
import { isClusterUrl } from './redis-url.js';
import { keyBuilder, queuePrefix } from './keys.js';

export interface RunningService {
  url: string;
  app: AppContext;
  server: http.Server;
  /**
   * Stops in order: /readyz turns 503 (then `drainMs` of normal service, for load balancers to
   * notice), the listener closes, requests in flight are answered, modules stop (workers finish
   * their running jobs), Redis connections close. Bounding the whole is the caller's business
   * (src/process.ts: SHUTDOWN_TIMEOUT_S).
   */
  close(opts?: { drainMs?: number }): Promise<void>;
}

export interface StartOptions {
  /** Serve HTTP (false for `npm run worker`). Default: unless ROLE=worker. */
  http?: boolean;
  /** Start workers and timers (default: config.WORKERS, and never with ROLE=web). */
  workers?: boolean;
  /** Modules to run (default: all). Order matters: init and start run in this order. */
  modules?: ServiceModule[];
  logger?: Logger;
}

export async function defaultModules(config: Config, serveHttp = true): Promise<ServiceModule[]> {
  const mods: ServiceModule[] = [healthModule];
  // The development sandbox is loaded only when asked for (absent from the production build).
  if (config.embeddedSandbox && serveHttp) mods.push(await loadSandboxModule());
  mods.push(ussdModule(), smsModule(), paymentsModule());
  // The operator console (/console) only where HTTP is served.
  if (serveHttp) mods.push(consoleModule());
  return mods;
}

export async function startService(config: Config, opts: StartOptions = {}): Promise<RunningService> {
  // The service's own logger is buffered (one line per USSD hop is on the hot path); a caller's
  // logger is used as given.
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL, undefined, { buffered: true });
  checkGatewaySettings(config, logger); // throws ConfigError before anything starts
  const serveHttp = opts.http ?? config.ROLE !== 'worker';
  const modules = opts.modules ?? (await defaultModules(config, serveHttp)); // so does a build without the sandbox
  const redis = createRedis(config.REDIS_URL, { commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  try {
    await waitReady(redis, 5000);
  } catch (err) {
    // Keep serving: screens answer with a polite END and /readyz says not ready until Redis is back.
    logger.error({ err: (err as Error).message, url: config.REDIS_URL }, 'redis unreachable at start-up');
  }

  const queueConns: Redis[] = [];
  const koa = new Koa({ proxy: false }); // X-Forwarded-For is read only from TRUSTED_PROXIES (src/http/client-ip.ts)
  // Errors Koa sees outside our middleware (a client that timed out or went away mid-request):
  // one log line, never Koa's default stack dump on stderr.
  koa.on('error', (err: Error & { code?: string; status?: number }) => {
    const client =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ||
      err.code === 'ECONNRESET' ||
      err.code === 'ECONNABORTED' ||
      err.code?.startsWith('HPE_') ||
      (err.status ?? 500) < 500;
    if (client) logger.info({ err: err.message, code: err.code }, 'client request ended early');
    else logger.error({ err }, 'request error');
  });
  // koa.callback() composes the middleware present when called, so it is taken again once
  // every route is mounted; until then the gate below answers 503.
  let handler = koa.callback();
  // Slow or stalled clients are cut off long before Node's 300 s default: headers within
  // HTTP_HEADERS_TIMEOUT_MS, the whole request within HTTP_REQUEST_TIMEOUT_MS (checked every second).
  const server = http.createServer(
    {
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => void handler(req, res),
  );
  server.keepAliveTimeout = 65_000; // longer than typical aggregator/LB idle timeouts

  let ready = false;
  koa.use(async (ctx, next) => {
    if (!ready) {
      ctx.status = 503;
      ctx.body = { error: 'starting' };
      return;
    }
    // Shutting down: still served, but the client is told not to reuse the connection, so the
    // listener's close is not held up by keep-alive sockets.
    if (app.draining) ctx.set('Connection', 'close');
    await next();
  });
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
  const cluster = isClusterUrl(config.REDIS_URL);
  const app: AppContext = {
    config,
    logger,
    redis,
    key: keyBuilder(config.REDIS_PREFIX, cluster),
    cluster,
    draining: false,
    queueConnection: (role = 'worker') => {
      const c = createQueueRedis(config.REDIS_URL, role === 'producer' ? config.REDIS_COMMAND_TIMEOUT_MS : undefined);
      c.on('error', (err) => logger.warn({ err: err.message }, 'queue redis error'));
      queueConns.push(c);
      return c;
    },
    queuePrefix: queuePrefix(config.REDIS_PREFIX, cluster),
    gateway: undefined as never, // set just below; modules only read it after init
    gateways: undefined as never,
    otp: undefined as never, // set just below, once the gateways (which send the codes) exist
    actions: new ActionRegistry(),
    metrics: new Metrics(),
  };
  app.gateways = createGateways(app);
  app.gateway = app.gateways.byName(config.GATEWAY) ?? app.gateways.collect;
  app.otp = createOtpService(app);

  let closed = false;
  /** Stops what was started, in reverse; also cleans up after a refused start-up. */
  async function shutdown(how: { drainMs?: number } = {}): Promise<void> {
    if (closed) return;
    closed = true;
    app.draining = true;
    if (serveHttp && server.listening && ready && how.drainMs) {
      logger.info({ drainMs: how.drainMs }, 'draining: /readyz answers 503');
      await new Promise((r) => setTimeout(r, how.drainMs));
    }
    if (serveHttp && server.listening) {
      // No new connections; requests in flight finish; keep-alive sockets are closed as soon
      // as they fall idle (a response during the drain carries Connection: close).
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      await closing;
      clearInterval(idle);
      logger.info('listener closed; requests in flight answered');
    }
    ready = false;
    for (const m of [...modules].reverse()) {
      try {
        await m.stop?.();
      } catch (err) {
        logger.warn({ err, module: m.name }, 'module stop failed');
      }
    }
    for (const g of app.gateways.all) await g.close().catch(() => undefined);
    await Promise.all(queueConns.map(closeRedis));
    await closeRedis(redis);
    flushLogger(logger);
  }

  const startWorkers = opts.workers ?? (config.WORKERS && config.ROLE !== 'web');
  try {
    for (const m of modules) await m.init?.(app);
    for (const m of modules) await m.ready?.(app);
    const router = new Router();
    for (const m of modules) m.routes?.(router, app);
    koa.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        if (ctx.req.aborted || (err as { code?: string }).code === 'ECONNABORTED') {
          // The client went away mid-request: nobody to answer, nothing wrong with us.
          logger.info({ path: ctx.path, method: ctx.method }, 'client closed the request before it was read');
          ctx.status = 400;
          return;
        }
        if (isRedisUnavailable(err)) {
          // Redis stalled or down: say so at once (the caller may retry), no stack trace.
          logger.warn({ path: ctx.path, err: (err as Error).message }, 'request refused: Redis unavailable');
          ctx.status = 503;
          ctx.set('Retry-After', '5');
          ctx.body = { error: 'service temporarily unavailable' };
          return;
        }
        // Never a stack trace on the wire; the log keeps it.
        const status = (err as { status?: number }).status ?? 500;
        if (status >= 500) logger.error({ err, path: ctx.path, status }, 'request failed');
        else logger.warn({ path: ctx.path, status, err: (err as Error).message }, 'request refused');
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

    for (const m of modules) {
      if (m.name !== 'sandbox' && !startWorkers) continue; // the sandbox's IPN timers always run
      await m.start?.(app);
    }
  } catch (err) {
    // A refused start-up (a bad menu, an action no gateway can do) leaves nothing running.
    await shutdown();
    throw err;
  }
  ready = true;
  logger.info({ url: selfUrl, gateway: config.GATEWAY, gatewayUrl: gatewayBase, workers: startWorkers }, 'service started');

  return { url: selfUrl, app, server, close: shutdown };
}
