// The sandbox gateway (src/dev/sandbox/) in tests: on its own HTTP server (as `npm run sandbox`
// runs it), and its test routes read over HTTP: what it sent by SMS, its ledger, its faults.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { createKyandaSandbox, type KyandaSandbox } from '../../src/dev/sandbox/sandbox.js';
import { createLogger } from '../../src/log.js';
import { serveKoa } from '../../src/http/serve-koa.js';
import { testConfig } from './service.js';

/** The sandbox's documented credentials (docs/sandbox.md): the service's development defaults. */
export const API_KEY = 'sandbox-api-key';
export const SECRET = 'sandbox-secret';
export const MERCHANT = 'sandbox-merchant';

export interface Sandbox {
  url: string;
  sandbox: KyandaSandbox;
  close(): Promise<void>;
}

/**
 * The Kyanda-family sandbox alone on a real HTTP server (no Redis, no service), answering at the
 * root and under /sandbox; its own config from `env` (checkouts complete after 150 ms unless
 * SANDBOX_CHECKOUT_DELAY_MS says otherwise). For fault tests its latency and outages then touch
 * only the gateway, not the service's own routes.
 */
export async function startSandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  const config = testConfig({ SANDBOX_CHECKOUT_DELAY_MS: '150', SANDBOX_IPN_TIME_SCALE: '0.01', ...env });
  const sandbox = createKyandaSandbox({ config, logger: createLogger(config.LOG_LEVEL, 'sandbox'), prefixes: ['/sandbox', ''] });
  const koa = new Koa();
  const router = new Router();
  sandbox.routes(router);
  koa.use(router.routes());
  const server = http.createServer(serveKoa(koa));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sandbox,
    async close() {
      sandbox.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export interface SandboxSms {
  ref: string;
  recipients: string[];
  message: string;
  at: string;
}

/** Every SMS the sandbox at `base` (the service's URL when embedded) has sent. */
export async function sandboxSms(base: string): Promise<SandboxSms[]> {
  const j = await getJson<SandboxSms[] | { sms?: SandboxSms[] }>(`${base}/sandbox/_sms`);
  return Array.isArray(j) ? j : (j.sms ?? []);
}

/** The sandbox's ledger: every call that moved (or would have moved) money, in order. */
export const sandboxLedger = <T>(base: string): Promise<T[]> => getJson<T[]>(`${base}/sandbox/_ledger`);

/** Sets the sandbox's faults (latency, outages, failNext …; docs/sandbox.md). */
export async function sandboxFaults(base: string, body: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${base}/sandbox/_faults`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (r.status !== 200) throw new Error(`POST ${base}/sandbox/_faults → ${r.status}: ${await r.text()}`);
}
