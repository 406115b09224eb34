// A sandbox account's allowance: 60 requests a minute and 5,000 a day per apiKey (the gateway's
// rate-limit table, docs/sandbox.md), each answered past the limit with 429 and the
// X-RateLimit-* headers of the limit that binds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config.js';
import { startTestService } from '../../support/service.js';
import { sandboxApi, sign } from './support.js';
import { MERCHANT, API_KEY } from '../../support/sandbox.js';

const balance = { MerchantID: MERCHANT, signature: sign(MERCHANT) };

test('defaults: 60 requests per minute and 5,000 per day, as a sandbox account has', () => {
  const c = loadConfig({});
  assert.equal(c.SANDBOX_RATE_LIMIT_PER_MIN, 60);
  assert.equal(c.SANDBOX_RATE_LIMIT_PER_DAY, 5000);
  assert.equal(c.GATEWAY_RATE_LIMIT_PER_DAY, 0, 'the client has no daily cap unless told');
});

test('the embedded sandbox answers the 61st request of a minute with 429', async () => {
  const svc = await startTestService({}, { workers: false });
  try {
    const g = sandboxApi(svc.url);
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await g.post('/api-link', balance)).status);
    assert.deepEqual(
      statuses.slice(0, 60).filter((s) => s !== 200),
      [],
      'sixty go through',
    );
    assert.equal(statuses[60], 429);
  } finally {
    await svc.close();
  }
});

test("daily cap: 429 past SANDBOX_RATE_LIMIT_PER_DAY with the day's X-RateLimit-* and Retry-After; per apiKey", async () => {
  const svc = await startTestService({ SANDBOX_RATE_LIMIT_PER_MIN: '100', SANDBOX_RATE_LIMIT_PER_DAY: '3' }, { workers: false });
  try {
    const g = sandboxApi(svc.url);
    const nowS = Date.now() / 1000;
    const first = await g.post('/api-link', balance);
    assert.equal(first.status, 200);
    // 2 left today, 99 this minute: the day binds, so the headers speak of the day.
    assert.equal(first.headers.get('x-ratelimit-limit'), '3');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '2');
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    assert.ok(reset >= nowS + 86_000 && reset <= nowS + 86_402, `day reset ${reset} vs now ${nowS}`);
    assert.equal((await g.post('/api-link', balance)).status, 200);
    assert.equal((await g.post('/api-link', balance)).status, 200);
    const over = await g.post('/api-link', balance);
    assert.equal(over.status, 429);
    assert.equal(over.body.status_code, '429');
    assert.equal(over.headers.get('x-ratelimit-limit'), '3');
    assert.equal(over.headers.get('x-ratelimit-remaining'), '0');
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry > 86_000 && retry <= 86_400, `retry-after ${retry}`);
    // Refused requests do not count against the day: still refused, still the same reset.
    assert.equal((await g.post('/api-link', balance)).headers.get('x-ratelimit-reset'), over.headers.get('x-ratelimit-reset'));
    // Another key has its own day.
    const other = await g.post('/api-link', balance, { apiKey: `${API_KEY}-other` });
    assert.equal(other.status, 401);
    assert.equal(other.headers.get('x-ratelimit-remaining'), '2');
  } finally {
    await svc.close();
  }
});
