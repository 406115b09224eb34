// The floor: the least any USSD service backed by Redis must do per request. Parse the form
// body, one Redis GET and one SET for the session, answer text/plain. Same Koa, same body
// parser (smallBody, as POST /ussd uses), same ioredis client settings and same HTTP server
// settings as the service; no logging, no routing, no locking, no replay, no state machine:
// whatever the real service costs above this is the engine's own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { smallBody } from '../../src/http/body.js';
import { createRedis, waitReady } from '../../src/redis.js';
import { serveKoa } from '../../src/http/serve-koa.js';

export interface Floor {
  url: string;
  close(): Promise<void>;
}

export async function startFloor(redisUrl: string, prefix: string): Promise<Floor> {
  const redis = createRedis(redisUrl);
  await waitReady(redis, 5000);
  const koa = new Koa();
  koa.use(smallBody());
  koa.use(async (ctx) => {
    const form = (ctx.request.body ?? {}) as Record<string, string | undefined>;
    const key = `${prefix}sess:${form.sessionId ?? ''}`;
    const prev = await redis.get(key);
    const text = form.text ?? '';
    await redis.set(key, text, 'EX', 180);
    ctx.type = 'text/plain';
    ctx.body = `CON ${prev === null ? 'Welcome' : 'Next'} (${text.length})\n1 Option one\n2 Option two`;
  });
  const server = http.createServer(serveKoa(koa));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
