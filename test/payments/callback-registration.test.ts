// The Kyanda callback URL is registered once (src/payments/callback-registration.ts,
// docs/money.md "IPNs and webhook events"): remembered in Redis, so instances sharing one Redis
// register it once; a PUBLIC_URL that changed is not registered again (the gateway does not let
// it change through the API): an error for a person, and the remembered URL stays.
// The sandbox runs on its own server; a pass-through HTTP proxy in front of it counts the
// callback-url/create requests that reach it.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { start, type Svc } from './support.js';
import { startSandbox, type Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { captureRecords } from '../support/log.js';

let sb: Sandbox;
let proxy: http.Server;
let proxyUrl: string;
/** callbackURL of each registration request that reached the sandbox. */
const registered: string[] = [];
const running: Svc[] = [];

before(async () => {
  sb = await startSandbox();
  const target = new URL(sb.url);
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.includes('/callback-url/create')) registered.push(String((JSON.parse(body.toString('utf8')) as { callbackURL?: string }).callbackURL));
      const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  for (const s of running) await s.svc.close();
  proxy.closeAllConnections();
  await new Promise<void>((r) => proxy.close(() => r()));
  await sb.close();
});

const PREFIX = `cbreg${Date.now()}:`;

test('two instances starting against one Redis register the callback URL once; a changed PUBLIC_URL is not registered again', async () => {
  const first = 'http://127.0.0.1:9101';
  const env = { GATEWAY_URL: proxyUrl, REDIS_PREFIX: PREFIX, PUBLIC_URL: first };
  // Both at once, as two replicas of one deployment start.
  const [a, b] = await Promise.all([start(env), start(env)]);
  running.push(a, b);
  const key = a.svc.app.key('callback-url', 'kyanda');
  assert.equal(key, b.svc.app.key('callback-url', 'kyanda'), 'one Redis, one key');
  await waitFor(async () => (await a.svc.app.redis.get(key)) ?? undefined, 5000);
  await new Promise((r) => setTimeout(r, 500)); // time for a second registration, were one coming
  assert.deepEqual(registered, [`${first}/callbacks/kyanda`], 'registered once');
  assert.equal(await a.svc.app.redis.get(key), `${first}/callbacks/kyanda`);

  // A third instance, same Redis, PUBLIC_URL changed: not registered (only the gateway's
  // support can change it); it says so, naming both URLs.
  const log = captureRecords<{ msg: string; registered?: string; wanted?: string }>('info');
  const c = await start({ ...env, PUBLIC_URL: 'http://127.0.0.1:9202' }, { logger: log.logger as never });
  running.push(c);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(registered, [`${first}/callbacks/kyanda`], 'not registered again');
  assert.equal(await c.svc.app.redis.get(key), `${first}/callbacks/kyanda`, 'the remembered URL stays');
  const line = log.lines.find((l) => /holds another IPN URL/.test(l.msg));
  assert.ok(line, 'an error for a person');
  assert.equal(line.registered, `${first}/callbacks/kyanda`);
  assert.equal(line.wanted, 'http://127.0.0.1:9202/callbacks/kyanda');
});
