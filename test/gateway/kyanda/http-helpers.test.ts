// The shared transport helpers (src/gateway/http): wait hints, backoff bounds, abortable sleep,
// and the sent/not-sent classification every retry decision rests on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, serverWaitMs, sleep, createTransport, TransportError } from '../../../src/gateway/http/index.js';
import { startPeer, json } from './support.js';

test('serverWaitMs: Retry-After seconds, Retry-After date, then X-RateLimit-Reset epoch seconds', () => {
  const now = 1_700_000_000_000;
  assert.equal(serverWaitMs({ 'retry-after': '2' }, now), 2000);
  assert.equal(serverWaitMs({ 'retry-after': new Date(now + 3000).toUTCString() }, now), 3000);
  assert.equal(serverWaitMs({ 'x-ratelimit-reset': String(now / 1000 + 7) }, now), 7000);
  assert.equal(serverWaitMs({ 'retry-after': '1', 'x-ratelimit-reset': String(now / 1000 + 7) }, now), 1000, 'Retry-After wins');
  assert.equal(serverWaitMs({ 'x-ratelimit-reset': String(now / 1000 - 5) }, now), 0, 'a reset in the past means now');
  assert.equal(serverWaitMs({}, now), undefined);
  assert.equal(serverWaitMs({ 'retry-after': 'soon' }, now), undefined);
});

test('backoffDelay: doubles per attempt, equal jitter, capped', () => {
  const o = { baseMs: 100, maxMs: 1000 };
  assert.equal(
    backoffDelay(1, o, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, o, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, o, () => 0),
    200,
  );
  assert.equal(
    backoffDelay(3, o, () => 1),
    400,
  );
  assert.equal(
    backoffDelay(10, o, () => 1),
    1000,
  );
});

test('sleep rejects as soon as the signal aborts', async () => {
  const t0 = Date.now();
  await assert.rejects(sleep(5000, AbortSignal.timeout(50)));
  assert.ok(Date.now() - t0 < 1000);
});

test('transport: JSON both ways, lower-case headers; refused = not sent; slow = sent timeout', async () => {
  const peer = await startPeer((req, res) => {
    if (req.path === '/slow') return; // never answers
    json(res, 200, { echo: req.body }, { 'X-RateLimit-Remaining': '9' });
  });
  const t = createTransport({ baseUrl: `${peer.url}/`, connectTimeoutMs: 500, timeoutMs: 300 });
  try {
    const r = await t.request({ method: 'POST', path: '/x', json: { a: 1 } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { echo: { a: 1 } });
    assert.equal(r.headers['x-ratelimit-remaining'], '9');
    const e = await t.request({ method: 'POST', path: '/slow', json: {} }).catch((x: unknown) => x);
    assert.ok(e instanceof TransportError);
    assert.equal(e.sent, true);
    assert.equal(e.kind, 'timeout');
    const aborted = await t.request({ method: 'POST', path: '/slow', json: {}, signal: AbortSignal.abort() }).catch((x: unknown) => x);
    assert.ok(aborted instanceof TransportError);
    assert.equal(aborted.sent, false, 'aborted before dispatch');
  } finally {
    await t.close();
    await peer.close();
  }
  const refused = createTransport({ baseUrl: peer.url, connectTimeoutMs: 500, timeoutMs: 300 });
  const e = await refused.request({ method: 'GET', path: '/' }).catch((x: unknown) => x);
  await refused.close();
  assert.ok(e instanceof TransportError);
  assert.equal(e.sent, false);
  assert.equal(e.kind, 'connect');
});
