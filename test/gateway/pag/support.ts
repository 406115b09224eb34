// PAG test rig: the PAG sandbox on its own Koa server (real HTTP), a PAG client pointed at it
// with a private Redis prefix, and a small HTTP receiver for callbacks.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { testConfig } from '../../support/service.js';
import { sharedRedis } from '../../support/redis.js';
import { createLogger } from '../../../src/log.js';
import { createPagGateway, type PagGateway } from '../../../src/gateway/pag/client.js';
import { createPagSandbox, type PagSandbox } from '../../../src/dev/sandbox/pag/sandbox.js';
import type { LedgerEntry } from '../../../src/dev/sandbox/types.js';
import type { Config } from '../../../src/config.js';
import { serveKoa } from '../../../src/http/serve-koa.js';

export const MERCHANT = 'pag-test-merchant';
export const SECRET = 'pag-test-secret';

export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  status: number[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

/** A callback endpoint; answers statuses from `status` in turn (then 200), recording every body. */
export async function startReceiver(status: number[] = []): Promise<Receiver> {
  const received: Received[] = [];
  const queue = [...status];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      res.writeHead(queue.shift() ?? 200, { 'content-type': 'application/json' });
      res.end('{"status":"success"}');
    });
  });
  const url = await listen(server);
  return { url, received, status, close: () => closeServer(server) };
}

export interface Rig {
  url: string;
  sandbox: PagSandbox;
  ledger: LedgerEntry[];
  gateway: PagGateway;
  config: Config;
  /** Another client on the same sandbox (other env, e.g. a wrong secret). */
  client(env?: Record<string, string>): PagGateway;
  close(): Promise<void>;
}

export async function startRig(env: Record<string, string> = {}): Promise<Rig> {
  const ledger: LedgerEntry[] = [];
  const base = {
    MERCHANT_ID: MERCHANT,
    GATEWAY_SECRET: SECRET,
    GATEWAY: 'pag',
    GATEWAY_RETRY_BASE_MS: '20',
    GATEWAY_RATE_LIMIT_PER_MIN: '100000',
    SANDBOX_CHECKOUT_DELAY_MS: '100',
    ...env,
  };
  const sandboxConfig = testConfig(base);
  const sandbox = createPagSandbox({ config: sandboxConfig, logger: createLogger('silent'), prefix: '/sandbox/pag', record: (e) => ledger.push(e) });
  const koa = new Koa();
  const router = new Router();
  sandbox.routes(router);
  koa.use(router.routes());
  const server = createServer(serveKoa(koa));
  const url = await listen(server);
  const r = await sharedRedis();
  const gateways: PagGateway[] = [];
  const client = (extra: Record<string, string> = {}) => {
    // GATEWAY_URL set: the client is not "embedded", so PAG_PROVIDER_ID defaults to 14.
    const config = testConfig({ ...base, GATEWAY_URL: url, REDIS_PREFIX: `tp${randomUUID().slice(0, 8)}:`, ...extra });
    const gw = createPagGateway({ config, redis: r, logger: createLogger('silent'), key: (...p) => config.REDIS_PREFIX + p.join(':') }, `${url}/sandbox/pag`);
    gateways.push(gw);
    return gw;
  };
  const gateway = client();
  return {
    url,
    sandbox,
    ledger,
    gateway,
    config: sandboxConfig,
    client,
    async close() {
      sandbox.stop();
      for (const g of gateways) await g.close();
      await closeServer(server);
    },
  };
}

export const uid = (p = 'T') => `${p}-${randomUUID().slice(0, 12)}`;
