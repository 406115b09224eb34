// Retries and unknown outcomes: a real HTTP proxy between the client and the PAG sandbox
// delays or fails chosen requests. order_id makes a re-send safe, so the client re-sends.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRig, uid, type Rig } from './support.js';
import { closeSharedRedis, sharedRedis } from '../../support/redis.js';
import type { Redis } from '../../../src/redis.js';
import { createPagGateway } from '../../../src/gateway/pag/client.js';
import { createLogger } from '../../../src/log.js';
import { testConfig } from '../../support/service.js';

type Act = { kind: 'delay'; ms: number } | { kind: 'status'; code: number };
interface Seen {
  path: string;
  body: string;
}

let rig: Rig;
let redis: Redis;
let proxy: Server;
let proxyUrl: string;
const plan: Act[] = [];
const seen: Seen[] = [];

before(async () => {
  rig = await startRig();
  redis = await sharedRedis();
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void relay().catch(() => res.destroy()));
    const relay = async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ path: req.url ?? '', body });
      const act = req.url?.endsWith('/status') ? undefined : plan.shift();
      if (act?.kind === 'status') {
        res.writeHead(act.code, { 'content-type': 'application/json' });
        res.end('{"result":{"code":99,"message":"busy"}}');
        return;
      }
      // Forward first, so the sandbox has done the work even when the answer comes too late.
      const up = await fetch(`${rig.url}${req.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await up.text();
      if (act?.kind === 'delay') await new Promise((r) => setTimeout(r, act.ms));
      if (res.destroyed || req.socket.destroyed) return;
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(text);
    };
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
after(async () => {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await rig.close();
  await closeSharedRedis();
});

function client(env: Record<string, string> = {}) {
  const config = testConfig({
    GATEWAY: 'pag',
    GATEWAY_URL: proxyUrl,
    MERCHANT_ID: 'pag-test-merchant',
    GATEWAY_SECRET: 'pag-test-secret',
    GATEWAY_RETRY_BASE_MS: '20',
    GATEWAY_TIMEOUT_MS: '1000',
    GATEWAY_RATE_LIMIT_PER_MIN: '100000',
    ...env,
  });
  return {
    config,
    gw: createPagGateway({ config, redis, logger: createLogger('silent'), key: (...p) => config.REDIS_PREFIX + p.join(':') }, `${proxyUrl}/sandbox/pag`),
  };
}

function c2bBodies(ref: string): string[] {
  return seen.filter((s) => s.path.endsWith('/payment_c2b') && s.body.includes(`"order_id":"${ref}"`)).map((s) => s.body);
}

test('a reply lost to a timeout is re-sent with the identical body; the gateway does the work once', async () => {
  const { gw } = client();
  const ref = uid('to');
  plan.push({ kind: 'delay', ms: 1300 });
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 700, channel: 'MPESA' }, { reference: ref });
  assert.equal(r.kind, 'pending');
  const bodies = c2bBodies(ref);
  assert.equal(bodies.length, 2);
  assert.equal(bodies[0], bodies[1]);
  assert.equal(rig.ledger.filter((e) => e.reference === ref).length, 1);
  await gw.close();
});

test('503 and 429 answers are retried, then the reply is used', async () => {
  const { gw } = client();
  const ref = uid('5xx');
  plan.push({ kind: 'status', code: 503 }, { kind: 'status', code: 429 });
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 700, channel: 'MPESA' }, { reference: ref });
  assert.equal(r.kind, 'pending');
  assert.equal(c2bBodies(ref).length, 3);
  await gw.close();
});

test('a timeout then 429s until the attempts run out: unknown and looked up, never "failed"', async () => {
  // The first send reached the gateway (its answer was lost); the 429 only refused the re-send.
  const { gw } = client({ GATEWAY_MAX_ATTEMPTS: '2' });
  const ref = uid('to429');
  plan.push({ kind: 'delay', ms: 1300 }, { kind: 'status', code: 429 });
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 700, channel: 'MPESA' }, { reference: ref });
  assert.notEqual(r.kind, 'failed', JSON.stringify(r));
  assert.equal(r.kind, 'pending', 'the status lookup found the order the first send created');
  assert.equal(rig.ledger.filter((e) => e.reference === ref).length, 1);
  await gw.close();
});

test('persistent 503: the status lookup decides; nothing known → unknown (never a guess)', async () => {
  const { gw } = client({ GATEWAY_MAX_ATTEMPTS: '2' });
  const ref = uid('5xx');
  plan.push({ kind: 'status', code: 503 }, { kind: 'status', code: 503 });
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 700, channel: 'MPESA' }, { reference: ref });
  assert.equal(r.kind, 'unknown');
  assert.equal(r.kind === 'unknown' && r.error.code, 'PAG_HTTP_503');
  assert.ok(
    seen.some((s) => s.path.endsWith('/status') && s.body.includes(ref)),
    'looked up by order_id',
  );
  await gw.close();
});

test('the caller aborting after sending: no re-send, the status lookup finds the order', async () => {
  const { gw } = client({ GATEWAY_TIMEOUT_MS: '5000' });
  const ref = uid('ab');
  plan.push({ kind: 'delay', ms: 400 });
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 700, channel: 'MPESA' }, { reference: ref, signal: AbortSignal.timeout(150) });
  assert.equal(c2bBodies(ref).length, 1);
  assert.equal(r.kind, 'pending', JSON.stringify(r));
  await gw.close();
});

test('a gateway that is not there: failed, retryable, nothing sent', async () => {
  const config = testConfig({ GATEWAY: 'pag', GATEWAY_URL: 'http://127.0.0.1:1', GATEWAY_RETRY_BASE_MS: '5', GATEWAY_RATE_LIMIT_PER_MIN: '100000' });
  const gw = createPagGateway(
    { config, redis, logger: createLogger('silent'), key: (...p) => config.REDIS_PREFIX + p.join(':') },
    'http://127.0.0.1:1/sandbox/pag',
  );
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 700, channel: 'MPESA' }, { reference: uid('down') });
  assert.equal(r.kind, 'failed');
  assert.equal(r.kind === 'failed' && r.error.code, 'PAG_NETWORK');
  assert.equal(r.kind === 'failed' && r.error.retryable, true);
  await gw.close();
});
