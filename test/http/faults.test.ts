// Under faults and bad clients: with Redis stalled, /api and /callbacks answer 503 within a
// second or two (never a 500, never a hang); a client that stalls its headers or body is cut off
// long before Node's 300 s default; a client that closes mid-body leaves no stack trace behind.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/lib/private-redis.mjs';
import { startTestService } from '../support/service.js';
import type { RunningService } from '../../src/app.js';
import { api, TOKEN, type ApiReply } from '../support/api.js';
import { waitFor } from '../support/wait.js';
import { captureRecords } from '../support/log.js';

let redis: PrivateRedis;
let svc: RunningService;
const { logger, lines } = captureRecords('info');

before(async () => {
  redis = await startPrivateRedis({ stderr: 'ignore' });
  svc = await startTestService({ REDIS_URL: redis.url, HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' }, { logger });
});
after(async () => {
  redis.proc.kill('SIGCONT');
  await svc.close();
  await redis.stop();
});

async function timed(path: string, init: RequestInit = {}): Promise<{ status: number; ms: number }> {
  const t = Date.now();
  const r = await fetch(`${svc.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  await r.text();
  return { status: r.status, ms: Date.now() - t };
}

test('Redis stalled: /api and /callbacks answer 503 within 2.5 s, /healthz stays up, /readyz says not ready', async () => {
  redis.proc.kill('SIGSTOP');
  try {
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const ipn = JSON.stringify({ category: 'Checkout', status: 'Success', status_code: '0000', transactionRef: 'KYA1', Amount: '10' });
    const checks = [
      await timed('/api/orders?state=paid', { headers: auth }),
      await timed('/api/orders/K0000000000000000', { headers: auth }),
      await timed('/callbacks/kyanda', { method: 'POST', body: ipn, headers: { 'content-type': 'application/json' } }),
      await timed('/api/otp', { method: 'POST', headers: auth, body: JSON.stringify({ phone: '0712345678', purpose: 'login' }) }),
    ];
    for (const c of checks) {
      assert.equal(c.status, 503, JSON.stringify(checks));
      assert.ok(c.ms < 2500, `answered in ${c.ms} ms`);
    }
    assert.equal((await timed('/healthz')).status, 200);
    assert.equal((await timed('/readyz')).status, 503);
  } finally {
    redis.proc.kill('SIGCONT');
  }
  assert.equal((await timed('/api/orders?state=paid', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  assert.ok(!lines.some((l) => l.level === 50 && l.msg === 'request failed'), 'no 500s logged');
});

test('a bulk request answered 503 while Redis stalled does not hold its Idempotency-Key: the retry with that key makes the campaign', async () => {
  const key = `stalled-${Date.now()}`;
  const body = { message: `Stalled ${Date.now()}`, recipients: ['0712000101', '0712000102'] };
  redis.proc.kill('SIGSTOP');
  let first: ApiReply;
  try {
    first = await api(svc.url, 'POST', '/api/sms/bulk', body, { 'idempotency-key': key });
  } finally {
    redis.proc.kill('SIGCONT');
  }
  assert.equal(first.status, 503, JSON.stringify(first.json));
  // Redis now runs the claim it was sent while stopped; with nothing giving it back, the retry
  // would be told "in progress" (409) for as long as the claim lasts.
  const seen: number[] = [];
  const retry = await waitFor(
    async () => {
      const r = await api(svc.url, 'POST', '/api/sms/bulk', body, { 'idempotency-key': key });
      seen.push(r.status);
      return r.status === 202 ? r : undefined;
    },
    { what: 'the retry to make the campaign', timeoutMs: 6000, everyMs: 500 },
  );
  assert.equal(retry.json.valid, 2);
  assert.ok(
    seen.every((s) => s === 409 || s === 202),
    seen.join(','),
  );
  const again = await api(svc.url, 'POST', '/api/sms/bulk', body, { 'idempotency-key': key });
  assert.equal(again.status, 200, 'the key now names that campaign');
  assert.equal(again.json.id, retry.json.id);
});

test('a code asked for while Redis stalled (503) holds no cooldown or quota: the retry sends a code', async () => {
  const phone = '0712000203';
  redis.proc.kill('SIGSTOP');
  let first: ApiReply;
  try {
    first = await api(svc.url, 'POST', '/api/otp', { phone, purpose: 'login' });
  } finally {
    redis.proc.kill('SIGCONT');
  }
  assert.equal(first.status, 503, JSON.stringify(first.json));
  // Redis now runs the send it was sent while stopped (code, cooldown, quota slots), for a code
  // no SMS carries; left alone, the retry would be told COOLDOWN (429).
  const seen: number[] = [];
  await waitFor(
    async () => {
      const r = await api(svc.url, 'POST', '/api/otp', { phone, purpose: 'login' });
      seen.push(r.status);
      return r.status === 202 ? r : undefined;
    },
    { what: 'the retry to send a code', timeoutMs: 6000, everyMs: 500 },
  );
  assert.ok(
    seen.every((s) => s === 429 || s === 202),
    seen.join(','),
  );
});

/** Opens a raw connection, writes `data`, then waits for the server to close it. */
function closedAfter(data: string): Promise<{ ms: number; reply: string }> {
  return new Promise((resolve, reject) => {
    const t = Date.now();
    const { port } = new URL(svc.url);
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.write(data));
    let reply = '';
    sock.on('data', (d) => {
      reply += d.toString();
    });
    sock.on('close', () => resolve({ ms: Date.now() - t, reply }));
    sock.on('error', () => undefined);
    setTimeout(() => {
      sock.destroy();
      reject(new Error('still open after 8 s'));
    }, 8000);
  });
}

test('a client that never finishes its headers, or its body, is cut off within seconds', async () => {
  const headers = await closedAfter('POST /api/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n');
  assert.ok(headers.ms < 4000, `headers: closed after ${headers.ms} ms`);
  const body = await closedAfter('POST /callbacks/kyanda HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"status":');
  assert.ok(body.ms < 5000, `body: closed after ${body.ms} ms`);
  assert.match(body.reply, /^HTTP\/1\.1 408/);
});

test('a client closing mid-body leaves an info line, not a raw stack', async () => {
  const before = lines.length;
  await new Promise<void>((resolve) => {
    const { port } = new URL(svc.url);
    const sock = net.connect(Number(port), '127.0.0.1', () => {
      sock.write(
        `POST /api/sms/bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"message":"hi","recipients":[`,
      );
      setTimeout(() => {
        sock.destroy();
        resolve();
      }, 200);
    });
  });
  await new Promise((r) => setTimeout(r, 500));
  const mine = lines.slice(before);
  assert.ok(!mine.some((l) => (l.level as number) >= 50), JSON.stringify(mine));
  assert.ok(!mine.some((l) => typeof (l.err as { stack?: string } | undefined)?.stack === 'string'), 'no stack logged');
});
