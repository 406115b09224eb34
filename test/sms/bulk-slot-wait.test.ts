// A bulk batch waiting in-process for a rate-limit slot has not left: it must not be marked
// "sending" (possibly sent). A worker killed during that wait would otherwise leave the batch
// "sending"; the next attempt looks it up, the gateway's "not found" under our reference proves
// nothing, and the batch is never resent (its recipients never get the SMS).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, ipnRegistered, withRateWindow } from '../support/service.js';
import { keyNames } from '../../src/keys.js';
import { api } from '../support/api.js';
import { uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

// 4 requests per window; a batch waits up to 5 s in-process for its slot.
const svc = await startTestService({ GATEWAY_RATE_LIMIT_PER_MIN: '4', GATEWAY_RATE_RESERVE_PCT: '10', GATEWAY_RATE_WAIT_MS: '5000', SMS_RETRY_BASE_MS: '100' });
await ipnRegistered(svc);
// The same gateway with a 3-second "minute", so the wait is seconds.
await withRateWindow(svc, 3000);
after(() => svc.close());

test('a batch waiting for a rate-limit slot is not "sending"; it is marked so only when it leaves, and is sent once', async () => {
  const message = `Slot wait ${Date.now()}`;
  await new Promise((res) => setTimeout(res, 3100)); // start-up's own gateway calls leave the window
  // Other traffic on the account has just taken the whole window.
  const log = keyNames(svc.app.key).ratelimit.kyanda(svc.app.config.GATEWAY_API_KEY);
  const [sec, usec] = await svc.app.redis.time();
  const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  await svc.app.redis.zadd(log, now, 'other-1', now, 'other-2', now, 'other-3', now, 'other-4');
  const t0 = Date.now();
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: uniqueNumbers(10, 8) });
  assert.equal(r.status, 202);
  const sendingSeen: number[] = []; // when a sample found the batch "sending"
  const sent = await waitFor(
    async () => {
      const s = await api(svc.url, 'GET', `/api/sms/bulk/${r.json.id}`);
      if ((s.json.batches as Array<{ status: string }>)[0]?.status === 'sending') sendingSeen.push(Date.now());
      return s.json.state === 'done' ? s.json : undefined;
    },
    { what: 'campaign done', timeoutMs: 15000, everyMs: 25 },
  );
  const tookMs = Date.now() - t0;
  assert.equal(sent.totals.recipientsSent, 10);
  assert.equal((await sandboxSms(svc.url)).filter((x) => x.message === message).length, 1, 'sent once');
  // It waited seconds for the window; "sending" lasted only the request itself.
  assert.ok(tookMs >= 1500, `the batch waited for its slot (${tookMs} ms)`);
  const sendingMs = sendingSeen.length ? sendingSeen.at(-1)! - sendingSeen[0]! : 0;
  assert.ok(sendingMs < 1000, `"sending" for ${sendingMs} ms of a ${tookMs} ms wait (${sendingSeen.length} samples)`);
});
