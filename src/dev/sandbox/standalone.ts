// `npm run sandbox`: the sandbox gateway alone on PORT (default 3030, the docs' sandbox port).
// The API answers both at the root (GATEWAY_URL=http://127.0.0.1:3030, like the real base URL)
// and under /sandbox (as embedded).
import http from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { loadConfig, ConfigError } from '../../config.js';
import { createLogger } from '../../log.js';
import { createKyandaSandbox } from './sandbox.js';
import { serveKoa } from '../../http/serve-koa.js';

function main(): void {
  let config;
  try {
    config = loadConfig({ ...process.env, PORT: process.env.PORT || '3030' });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  // Alone, the sandbox stands in for the real gateway: the documented IPN retry schedule unless
  // SANDBOX_IPN_TIME_SCALE says otherwise (the 0.01 default is for the embedded demo).
  if (!process.env.SANDBOX_IPN_TIME_SCALE) config.SANDBOX_IPN_TIME_SCALE = 1;
  const logger = createLogger(config.LOG_LEVEL, 'sandbox-gateway');
  const sandbox = createKyandaSandbox({ config, logger, prefixes: ['/sandbox', ''] });
  const koa = new Koa({ proxy: true });
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  sandbox.routes(router);
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  const server = http.createServer(serveKoa(koa));
  server.listen(config.PORT, config.HOST, () => {
    logger.info({ port: config.PORT, ipnTimeScale: config.SANDBOX_IPN_TIME_SCALE }, 'sandbox gateway listening');
  });
  const shutdown = () => {
    sandbox.stop();
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main();
