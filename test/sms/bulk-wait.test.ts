// Bulk SMS under a small gateway allowance: batches wait for a slot as delayed jobs (no attempt
// used up, nothing dropped), the backlog and the waits show in /metrics, and money calls keep
// the share of the allowance bulk traffic must leave them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { startTestService, ipnRegistered, withRateWindow } from '../support/service.js';
import { QUEUE_NAME } from '../../src/sms/queue.js';
import { api, campaignDone } from '../support/api.js';
import { uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

// 4 requests per window, bulk may hold 3 of them (GATEWAY_RATE_RESERVE_PCT 10 → 3 × 10 % kept);
// a batch never waits in-process (GATEWAY_RATE_WAIT_MS 0) and has a single attempt.
const svc = await startTestService({
  GATEWAY_RATE_LIMIT_PER_MIN: '4',
  GATEWAY_RATE_RESERVE_PCT: '10',
  GATEWAY_RATE_WAIT_MS: '0',
  SMS_BATCH_ATTEMPTS: '1',
  SMS_RETRY_BASE_MS: '100',
  SMS_SENDER_CONCURRENCY: '4',
});
// Start-up registers the IPN URL through the gateway about to be closed (a money-class call that
// start-up does not await). Cut off by the close, it is retried 2, 4, 8 s later through the
// closed client, and a retry landing inside the test's window took the slot the money call
// below is promised (seen on a loaded CI machine). So it finishes first.
await ipnRegistered(svc);
// The same gateway with a 2-second "minute", so the test waits seconds, not minutes.
await withRateWindow(svc, 2000);
after(() => svc.close());

const metric = async (line: RegExp) => {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
};

test('batches wait as delayed jobs for a slot, none fails on its single attempt, all are sent once; the wait is in /metrics', async () => {
  const message = `Backlog ${Date.now()}`;
  await new Promise((res) => setTimeout(res, 2100)); // start-up's own gateway calls leave the window
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: uniqueNumbers(7000, 7) });
  assert.equal(r.status, 202);
  assert.equal(r.json.batches, 7);
  // The backlog is visible while it lasts: delayed batches and waits counted.
  const seen = await waitFor(
    async () => {
      const delayed = await metric(/^sms_bulk_backlog_batches\{state="delayed"\} (\d+)$/m);
      const waits = await metric(/^sms_bulk_rate_waits_total (\d+)$/m);
      const s = await api(svc.url, 'GET', `/api/sms/bulk/${r.json.id}`);
      const waiting = s.json.batches.find((b: { status: string }) => b.status === 'waiting');
      return delayed > 0 && waits > 0 && waiting ? { delayed, waits, waiting } : undefined;
    },
    { what: 'a waiting batch', timeoutMs: 10000, everyMs: 50 },
  );
  assert.equal(seen.waiting.error, 'RATE_LIMITED');
  assert.ok(Date.parse(seen.waiting.retryAt) > Date.now() - 5000, 'it says when it asks again');

  // Meanwhile a money call (default priority) still finds its reserved slot at once.
  const t0 = Date.now();
  const balance = await svc.app.gateway.balance();
  assert.equal(typeof balance.floatMinor, 'number');
  assert.ok(Date.now() - t0 < 1000, `money waited ${Date.now() - t0} ms behind bulk`);

  const status = await campaignDone(svc.url, r.json.id, 30000);
  assert.equal(status.totals.batchesSent, 7);
  assert.equal(status.totals.batchesFailed, 0);
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.equal(sent.length, 7, 'each batch sent once');
  // Waiting used up no attempt: every job completed on its first (and only) one.
  const q = new Queue(QUEUE_NAME, { connection: svc.app.queueConnection(), prefix: svc.app.queuePrefix });
  try {
    const jobs = await q.getJobs(['completed']);
    const mine = jobs.filter((j) => (j.data as { bulkId: string }).bulkId === r.json.id);
    assert.equal(mine.length, 7);
    assert.ok(
      mine.every((j) => j.attemptsMade <= 1),
      mine.map((j) => j.attemptsMade).join(','),
    );
  } finally {
    await q.close();
  }
  assert.ok((await metric(/^sms_bulk_batch_wait_seconds_count (\d+)$/m)) >= 7);
  assert.ok((await metric(/^gateway_rate_limited_total\{gateway="kyanda",priority="bulk",why="minute"\} (\d+)$/m)) >= 1);
});
