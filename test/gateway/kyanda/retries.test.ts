// Transport behaviour against real HTTP peers whose timing we control: which failures are
// retried and on what schedule, and that a money call with an unknown outcome is looked up,
// never re-sent.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../../scripts/lib/private-redis.mjs';
import { Agent } from 'undici';
import { startPeer, json, gateway, type Peer, type Seen } from './support.js';
import { closeSharedRedis } from '../../support/redis.js';

after(() => closeSharedRedis());

const AIRTIME = { phone: '0712345678', amountMinor: 10000, telco: 'SAFARICOM' as const, initiatorPhone: '0712345678' };
const isAirtime = (s: Seen) => s.path === '/billing/v1/airtime/create';
const isLookup = (s: Seen) => s.path === '/billing/v1/transaction-status' || s.path.endsWith('/verify');
const found = (reference: string, status = 'Success') => ({
  status: '200',
  status_code: '0000',
  details: {
    category: 'Airtime',
    status,
    status_code: status === 'Success' ? '0000' : '1100',
    message: 'done',
    transactionRef: 'KYA77',
    amount: '100',
    requestMetadata: { reference },
    details: { Telco_Reference: 'RA1' },
  },
});
const notFound = { status: 'Failed', status_code: '7001', message: 'Transaction not found' };
const vended = { status: 'Success', status_code: '0000', merchant_reference: 'KYA77', message: 'ok' };

async function withPeer(handler: Parameters<typeof startPeer>[0], fn: (p: Peer) => Promise<void>) {
  const p = await startPeer(handler);
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

test('429 is retried after Retry-After seconds', async () => {
  await withPeer(
    (req, res) => {
      if (req.path !== '/api-link') return json(res, 404, {});
      if (p429++ === 0) return json(res, 429, { status: 'Failed', message: 'rate' }, { 'retry-after': '1' });
      json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 10, Earnings_Bal: 0 });
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        assert.deepEqual(await gw.balance(), { floatMinor: 1000, earningsMinor: 0 });
        assert.equal(p.seen.length, 2);
        const gap = p.seen[1]!.at - p.seen[0]!.at;
        assert.ok(gap >= 990 && gap < 2500, `waited ${gap} ms for Retry-After: 1`);
      } finally {
        await gw.close();
      }
    },
  );
});
let p429 = 0;

test('429 without Retry-After waits until X-RateLimit-Reset', async () => {
  let n = 0;
  let resetAt = 0;
  await withPeer(
    (_req, res) => {
      if (n++ === 0) {
        resetAt = Math.ceil(Date.now() / 1000) + 1; // epoch seconds, 1–2 s away
        return json(res, 429, { status: 'Failed' }, { 'x-ratelimit-reset': String(resetAt), 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '60' });
      }
      json(res, 200, vended);
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'rl-1' });
        assert.equal(r.kind, 'succeeded');
        assert.equal(p.seen.length, 2);
        assert.ok(p.seen[1]!.at >= resetAt * 1000 - 5, `retried at ${p.seen[1]!.at}, reset ${resetAt * 1000}`);
        assert.ok(p.seen[1]!.at - resetAt * 1000 < 800);
      } finally {
        await gw.close();
      }
    },
  );
});

test('1105 is retried with jittered exponential backoff (base 100 ms), then succeeds', async () => {
  let n = 0;
  await withPeer(
    (_req, res) => {
      if (n++ < 2) return json(res, 503, { status: 'Failed', status_code: '1105', message: 'Payment services unavailable' });
      json(res, 200, vended);
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_RETRY_BASE_MS: '100', GATEWAY_MAX_ATTEMPTS: '3' });
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'b-1' });
        assert.equal(r.kind, 'succeeded');
        assert.equal(p.seen.length, 3);
        const g1 = p.seen[1]!.at - p.seen[0]!.at;
        const g2 = p.seen[2]!.at - p.seen[1]!.at;
        // attempt 1 → 2: 50..100 ms; attempt 2 → 3: 100..200 ms (equal jitter), plus scheduling slack.
        assert.ok(g1 >= 48 && g1 < 400, `first gap ${g1}`);
        assert.ok(g2 >= 98 && g2 < 600, `second gap ${g2}`);
      } finally {
        await gw.close();
      }
    },
  );
});

test('a retryable code that persists fails after GATEWAY_MAX_ATTEMPTS, flagged retryable', async () => {
  await withPeer(
    (_req, res) => json(res, 503, { status: 'Failed', status_code: '1105', message: 'Payment services unavailable' }),
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_MAX_ATTEMPTS: '3' });
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'b-2' });
        assert.equal(r.kind, 'failed');
        if (r.kind !== 'failed') return;
        assert.equal(r.error.code, '1105');
        assert.equal(r.error.retryable, true);
        assert.equal(p.seen.length, 3);
      } finally {
        await gw.close();
      }
    },
  );
});

// docs/gateways.md, "Platform codes": 5000 says "contact support with the transaction ref".
test('5000 to a money call: sent once, looked up, never re-sent; the lookup decides', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) return json(res, 500, { status: 'Failed', status_code: '5000', message: 'Unexpected error - contact support with transaction ref.' });
      if (isLookup(req)) return json(res, 200, found('u5-1'));
      json(res, 404, {});
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_MAX_ATTEMPTS: '3' });
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'u5-1' });
        assert.equal(r.kind, 'succeeded', 'the lookup found it done');
        assert.equal(p.seen.filter(isAirtime).length, 1, 'exactly one money request');
        assert.equal(p.seen.filter(isLookup).length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('5000 to a money or SMS call that no lookup can find: unknown (not failed, not retryable), one request', async () => {
  await withPeer(
    (req, res) => {
      if (isLookup(req)) return json(res, 404, notFound);
      json(res, 500, { status: 'Failed', status_code: '5000', message: 'Unexpected error' });
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_MAX_ATTEMPTS: '3' });
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'u5-2' });
        assert.equal(r.kind, 'unknown');
        if (r.kind === 'unknown') {
          assert.equal(r.error.code, '5000');
          assert.equal(r.error.retryable, false);
        }
        const s = await gw.sendSms({ phone: '0712345678', message: 'hello' }, { reference: 'u5-3' });
        assert.equal(s.kind, 'unknown');
        assert.equal(p.seen.filter(isAirtime).length, 1);
        assert.equal(p.seen.filter((x) => x.path === '/billing/v1/sms/send').length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('5000 to a read is retried (reads are idempotent)', async () => {
  let n = 0;
  await withPeer(
    (_req, res) => {
      if (n++ === 0) return json(res, 500, { status: 'Failed', status_code: '5000', message: 'Unexpected error' });
      json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 7, Earnings_Bal: 0 });
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_MAX_ATTEMPTS: '3' });
      try {
        assert.deepEqual(await gw.balance(), { floatMinor: 700, earningsMinor: 0 });
        assert.equal(p.seen.length, 2);
      } finally {
        await gw.close();
      }
    },
  );
});

test('validation codes are not retried', async () => {
  await withPeer(
    (_req, res) => json(res, 400, { status: 'Failed', status_code: '1104', message: 'Signature mismatch' }),
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'v-1' });
        assert.equal(r.kind, 'failed');
        if (r.kind === 'failed') {
          assert.equal(r.error.code, '1104');
          assert.equal(r.error.retryable, false);
          assert.ok(r.error.userMessage.sw.length > 0);
        }
        assert.equal(p.seen.length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('connection refused (nothing sent) is retried, and the call succeeds once the peer is up', async () => {
  const port = await freePort();
  const gw = await gateway(`http://127.0.0.1:${port}`, { GATEWAY_RETRY_BASE_MS: '150', GATEWAY_MAX_ATTEMPTS: '4' });
  const { createServer: createHttp } = await import('node:http');
  let hits = 0;
  const srv = createHttp((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => json(res, 200, vended));
  });
  try {
    const call = gw.airtime(AIRTIME, { reference: 'cr-1' });
    await new Promise((r) => setTimeout(r, 30)); // first attempt has been refused by now
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    const r = await call;
    assert.equal(r.kind, 'succeeded');
    assert.equal(hits, 1, 'the money request reached the server exactly once');
  } finally {
    await gw.close();
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('connection refused on every attempt is a definite failure (never sent), not unknown', async () => {
  const port = await freePort();
  const gw = await gateway(`http://127.0.0.1:${port}`, { GATEWAY_MAX_ATTEMPTS: '3' });
  try {
    const r = await gw.airtime(AIRTIME, { reference: 'cr-2' });
    assert.equal(r.kind, 'failed');
    if (r.kind === 'failed') {
      assert.equal(r.error.code, 'NETWORK');
      assert.equal(r.error.retryable, true);
    }
  } finally {
    await gw.close();
  }
});

test('timeout after sending: no re-send; the lookup by our reference decides (succeeded)', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) return; // swallow: the client times out waiting for headers
      if (isLookup(req)) return json(res, 200, found(req.body?.transactionRef ?? 'to-1'));
      json(res, 404, {});
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_TIMEOUT_MS: '300', GATEWAY_MAX_ATTEMPTS: '3' });
      try {
        const t0 = Date.now();
        const r = await gw.airtime(AIRTIME, { reference: 'to-1' });
        const took = Date.now() - t0;
        assert.ok(took >= 290 && took < 1200, `timed out after ${took} ms (GATEWAY_TIMEOUT_MS 300) and looked up`);
        assert.equal(r.kind, 'succeeded');
        if (r.kind === 'succeeded') {
          assert.equal(r.gatewayRef, 'KYA77');
          assert.equal(r.details?.Telco_Reference, 'RA1');
        }
        assert.equal(p.seen.filter(isAirtime).length, 1, 'exactly one money request');
        const lookups = p.seen.filter(isLookup);
        assert.equal(lookups.length, 1);
        // No gateway reference came back, so transaction-status (which takes the gateway's
        // reference) cannot help: the verify endpoint is asked with ours.
        assert.equal(lookups[0]!.path, '/transactions/to-1/verify', 'looked up by our reference, with verify');
      } finally {
        await gw.close();
      }
    },
  );
});

test('timeout after sending and the gateway does not know the reference: unknown, still one money request', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) return;
      json(res, 404, notFound);
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_TIMEOUT_MS: '200' });
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'to-2' });
        assert.equal(r.kind, 'unknown');
        if (r.kind === 'unknown') assert.equal(r.error.code, 'TIMEOUT');
        assert.equal(p.seen.filter(isAirtime).length, 1);
        assert.ok(p.seen.some(isLookup));
      } finally {
        await gw.close();
      }
    },
  );
});

test('connection reset after the request was sent is an unknown outcome: looked up, not re-sent', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) {
        res.socket?.destroy();
        return;
      }
      if (isLookup(req)) return json(res, 200, found('rs-1', 'Pending'));
      json(res, 404, {});
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'rs-1' });
        assert.equal(r.kind, 'pending');
        assert.equal(p.seen.filter(isAirtime).length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('abort by the caller (USSD deadline) after sending: one money request, then a lookup', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) {
        setTimeout(() => {
          if (!res.destroyed) json(res, 200, vended);
        }, 1500);
        return;
      }
      if (isLookup(req)) return json(res, 200, found('ab-1', 'Pending'));
      json(res, 404, {});
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const t0 = Date.now();
        const r = await gw.airtime(AIRTIME, { reference: 'ab-1', signal: AbortSignal.timeout(150) });
        assert.ok(Date.now() - t0 < 1000, 'returned soon after the abort');
        assert.equal(r.kind, 'pending');
        assert.equal(p.seen.filter(isAirtime).length, 1);
        assert.equal(p.seen.filter(isLookup).length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('duplicate transmission after our own resend means "look it up", not "failed"', async () => {
  let n = 0;
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) {
        // First answer lost in a 1106 outage report, the resend collides with the original.
        return n++ === 0
          ? json(res, 503, { status: 'Failed', status_code: '1106', message: 'Airtime service unavailable' })
          : json(res, 400, { status: 'Failed', status_code: '9005', message: 'Duplicate transmission' });
      }
      if (isLookup(req)) return json(res, 200, found('dup-1'));
      json(res, 404, {});
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'dup-1' });
        assert.equal(r.kind, 'succeeded');
        assert.equal(p.seen.filter(isAirtime).length, 2);
        assert.equal(p.seen.filter(isLookup).length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('duplicate after a resend that the gateway cannot find is unknown, not failed', async () => {
  let n = 0;
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) {
        return n++ === 0
          ? json(res, 503, { status: 'Failed', status_code: '1105' })
          : json(res, 400, { status: 'Failed', status_code: '8006', message: 'Duplicate transmission' });
      }
      json(res, 404, notFound);
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'dup-2' });
        assert.equal(r.kind, 'unknown');
      } finally {
        await gw.close();
      }
    },
  );
});

test('a read (balance) whose answer timed out is safely re-sent', async () => {
  let n = 0;
  await withPeer(
    (_req, res) => {
      if (n++ === 0) return; // first answer never comes
      json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 5, Earnings_Bal: 1.5 });
    },
    async (p) => {
      const gw = await gateway(p.url, { GATEWAY_TIMEOUT_MS: '200' });
      try {
        assert.deepEqual(await gw.balance(), { floatMinor: 500, earningsMinor: 150 });
        assert.equal(p.seen.length, 2);
      } finally {
        await gw.close();
      }
    },
  );
});

test('keep-alive: sequential calls reuse one connection; an injected dispatcher is not closed by close()', async () => {
  await withPeer(
    (_req, res) => json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 1, Earnings_Bal: 0 }),
    async (p) => {
      const agent = new Agent({ keepAliveTimeout: 5000 });
      try {
        const gw = await gateway(p.url, {}, { dispatcher: agent });
        for (let i = 0; i < 5; i++) await gw.balance();
        assert.deepEqual(new Set(p.seen.map((s) => s.socket)), new Set([1]));
        await gw.close();
        const gw2 = await gateway(p.url, {}, { dispatcher: agent });
        await gw2.balance(); // the shared agent still works
        await gw2.close();
        assert.equal(p.seen.length, 6);
      } finally {
        await agent.close();
      }
    },
  );
});

test('offline_mode: a Queued answer is accepted with the gateway reference', async () => {
  await withPeer(
    (req, res) => {
      assert.equal(req.body.offline_mode, true);
      json(res, 200, { status: 'Queued', status_code: '1100', merchant_reference: 'KYAQ1' });
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'off-1', offlineMode: true });
        assert.equal(r.kind, 'accepted');
        if (r.kind === 'accepted') assert.equal(r.gatewayRef, 'KYAQ1');
      } finally {
        await gw.close();
      }
    },
  );
});

test('Pending answers with status_code "200" (samples) or "1100" (v2) are pending; transactiontxt is the fallback message', async () => {
  let n = 0;
  await withPeer(
    (_req, res) =>
      json(
        res,
        200,
        n++ === 0
          ? { status: 'Pending', status_code: '200', merchant_reference: 'KT1', transactiontxt: 'Request accepted for processing!' }
          : { status: 'Pending', status_code: '1100', merchant_reference: 'KT2', message: 'Accepted', transactiontxt: 'old' },
      ),
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const a = await gw.mobilePayout(
          { phone: '0712345678', amountMinor: 10000, channel: 'MPESA', initiatorName: 'A B', initiatorCountry: 'Kenya' },
          { reference: 'pd-1' },
        );
        assert.deepEqual(
          [a.kind, a.kind === 'pending' && a.gatewayRef, a.kind === 'pending' && a.message],
          ['pending', 'KT1', 'Request accepted for processing!'],
        );
        const b = await gw.mobilePayout(
          { phone: '0712345678', amountMinor: 10000, channel: 'MPESA', initiatorName: 'A B', initiatorCountry: 'Kenya' },
          { reference: 'pd-2' },
        );
        assert.deepEqual([b.kind, b.kind === 'pending' && b.message], ['pending', 'Accepted']);
      } finally {
        await gw.close();
      }
    },
  );
});

test('a 502 page without a platform code on a money call is an unknown outcome: looked up, not re-sent', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<h1>Bad Gateway</h1>');
        return;
      }
      if (isLookup(req)) return json(res, 200, found('px-1'));
      json(res, 404, {});
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'px-1' });
        assert.equal(r.kind, 'succeeded');
        assert.equal(p.seen.filter(isAirtime).length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('an unreadable 200 on a money call with nothing found is unknown (code UNCONFIRMED), not failed', async () => {
  await withPeer(
    (req, res) => {
      if (isAirtime(req)) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
        return;
      }
      json(res, 404, notFound);
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        const r = await gw.airtime(AIRTIME, { reference: 'px-2' });
        assert.equal(r.kind, 'unknown');
        if (r.kind === 'unknown') assert.equal(r.error.code, 'UNCONFIRMED');
        assert.equal(p.seen.filter(isAirtime).length, 1);
      } finally {
        await gw.close();
      }
    },
  );
});

test('a read answered by a 503 page is retried', async () => {
  let n = 0;
  await withPeer(
    (_req, res) => {
      if (n++ === 0) {
        res.writeHead(503);
        res.end();
        return;
      }
      json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 2, Earnings_Bal: 0 });
    },
    async (p) => {
      const gw = await gateway(p.url);
      try {
        assert.deepEqual(await gw.balance(), { floatMinor: 200, earningsMinor: 0 });
        assert.equal(p.seen.length, 2);
      } finally {
        await gw.close();
      }
    },
  );
});
