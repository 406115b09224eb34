import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from './support/service.js';
import { loadConfig } from '../src/config.js';

const svc = await startTestService();
after(() => svc.close());

test('GET /healthz answers ok', async () => {
  const res = await fetch(`${svc.url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('GET /readyz reports Redis reachable', async () => {
  const res = await fetch(`${svc.url}/readyz`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { redis: string }).redis, 'PONG');
});

test('GET /readyz is 503 when Redis is unreachable', async () => {
  const down = await startTestService({ REDIS_URL: 'redis://127.0.0.1:1' }, { workers: false });
  try {
    const res = await fetch(`${down.url}/readyz`);
    assert.equal(res.status, 503);
  } finally {
    await down.close();
  }
});

test('a bad environment variable is named in the error', () => {
  assert.throws(() => loadConfig({ USSD_DEADLINE_MS: 'soon' }), /USSD_DEADLINE_MS/);
  assert.throws(() => loadConfig({ GATEWAY: 'paypal' }), /GATEWAY/);
});
