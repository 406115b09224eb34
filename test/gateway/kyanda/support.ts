// Test helpers: a real Redis connection with a private key prefix, a gateway built over it,
// and small real HTTP peers (node:http) whose answers and timing each test controls.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { testConfig } from '../../support/service.js';
import { sharedRedis } from '../../support/redis.js';
import { createLogger } from '../../../src/log.js';
import { createKyandaGateway, type GatewayDeps } from '../../../src/gateway/kyanda/client.js';
import type { Gateway } from '../../../src/gateway/types.js';

export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  at: number;
  socket: number;
}

export interface Peer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

/** A real HTTP server; `handler` decides each answer. Records every request in order. */
export async function startPeer(handler: Handler): Promise<Peer> {
  const seen: Seen[] = [];
  const sockets = new Map<object, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
      const s: Seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now(), socket: sockets.get(req.socket)! };
      seen.push(s);
      void Promise.resolve(handler(s, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Gateway deps with fast retries and a private Redis prefix (pass `prefix` to share a limiter). */
export async function deps(env: Record<string, string> = {}, extra: Partial<GatewayDeps> & { prefix?: string } = {}): Promise<GatewayDeps> {
  const prefix = extra.prefix ?? `tk${randomUUID().slice(0, 8)}:`;
  const config = testConfig({ GATEWAY_RETRY_BASE_MS: '40', GATEWAY_RATE_LIMIT_PER_MIN: '10000', REDIS_PREFIX: prefix, ...env });
  const { prefix: _p, ...rest } = extra;
  return {
    config,
    redis: await sharedRedis(),
    logger: createLogger('silent'),
    key: (...parts: string[]) => `${config.REDIS_PREFIX}${parts.join(':')}`,
    ...rest,
  };
}

export async function gateway(url: string, env: Record<string, string> = {}, extra: Partial<GatewayDeps> & { prefix?: string } = {}): Promise<Gateway> {
  return createKyandaGateway(await deps(env, extra), url);
}
