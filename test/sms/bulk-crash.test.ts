import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startService } from '../../src/app.js';
import { smsModule } from '../../src/sms/module.js';
import { batchReference } from '../../src/sms/bulk-worker.js';
import { startTestService, testConfig } from '../support/service.js';
import { api } from '../support/api.js';
import { nsn, uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

// The HTTP side takes the upload; workers run elsewhere (a child process, then a fresh instance).
// No duplicate-transmission window in the sandbox: only our own records may prevent a resend.
const svc = await startTestService({ SANDBOX_DUPLICATE_WINDOW_MS: '0' }, { workers: false });
after(() => svc.close());

const faults = (body: unknown) =>
  fetch(`${svc.url}/sandbox/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const statusOf = async (id: string) => (await api(svc.url, 'GET', `/api/sms/bulk/${id}`)).json;

/**
 * A campaign whose batch 1 the gateway accepted just before its worker died: the worker had marked
 * it "sending" and the gateway took it. Returns the bulk id.
 */
async function acceptedThenDied(message: string, count: number, seed: number, batches: number): Promise<string> {
  const prefix = svc.app.config.REDIS_PREFIX;
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: uniqueNumbers(count, seed) });
  assert.equal(r.json.batches, batches);
  const id = r.json.id as string;
  const recipients = (await svc.app.redis.get(`${prefix}sms:bulk:${id}:b:1`))!.split(',');
  await svc.app.redis.hset(
    `${prefix}sms:bulk:${id}:bstat`,
    '1',
    JSON.stringify({ status: 'sending', size: recipients.length, attempts: 1, at: new Date().toISOString() }),
  );
  const accepted = await svc.app.gateway.bulkSms({ phones: recipients.map((m) => `+${m}`), message }, { reference: batchReference(id, 1) });
  assert.equal(accepted.kind, 'succeeded');
  return id;
}

test('a worker killed after the first batch: the rest is sent on restart, nothing twice; the batch in flight is never resent blindly', async () => {
  const prefix = svc.app.config.REDIS_PREFIX;
  const gateway = `${svc.url}/sandbox`;
  const numbers = uniqueNumbers(2150, 7);
  const message = `Crash test ${Date.now()}`;
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: numbers });
  assert.equal(r.status, 202);
  assert.equal(r.json.batches, 3);
  assert.equal((await faults({ latencyMs: 600 })).status, 200);

  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./support/worker-child.ts', import.meta.url))], {
    env: { ...process.env, CHILD_PREFIX: prefix, CHILD_GATEWAY: gateway },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((res) => child.once('exit', res));
  try {
    await waitFor(async () => (await statusOf(r.json.id)).totals.batchesSent >= 1, { what: 'first batch accepted', timeoutMs: 20000, everyMs: 50 });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const atKill = await statusOf(r.json.id);
  assert.ok(atKill.totals.batchesSent >= 1 && atKill.totals.batchesSent < 3, `killed with ${atKill.totals.batchesSent} batches sent`);
  const sentBefore = (await sandboxSms(svc.url)).filter((s) => s.message === message).length;
  assert.ok(sentBefore >= 1);

  await faults({ latencyMs: 0 });
  const restarted = await startService(
    testConfig({ REDIS_PREFIX: prefix, GATEWAY_URL: gateway, SMS_JOB_LOCK_MS: '1500', SMS_BATCH_ATTEMPTS: '3', SMS_RETRY_BASE_MS: '100' }),
    { http: false, workers: true, modules: [smsModule()] },
  );
  let final;
  try {
    final = await waitFor(
      async () => {
        const s = await statusOf(r.json.id);
        return s.state === 'done' ? s : undefined;
      },
      { what: 'campaign done after restart', timeoutMs: 20000, everyMs: 100 },
    );
  } finally {
    await restarted.close();
  }
  // Batches go with offline_mode: the gateway took them (QUEUED) and sends them a moment later.
  const sentNow = async () => (await sandboxSms(svc.url)).filter((s) => s.message === message);
  await waitFor(async () => ((await sentNow()).flatMap((s) => s.recipients).length >= final.totals.recipientsSent ? true : undefined), {
    what: 'the gateway sent what it took',
    timeoutMs: 10000,
    everyMs: 100,
  });
  const sent = await sentNow();
  const all = sent.flatMap((s) => s.recipients.map(nsn));
  assert.equal(new Set(all).size, all.length, 'nobody got the message twice');
  // The batch that was in flight when the worker died either reached the gateway (then it is
  // found by the lookup and counted as sent) or its outcome cannot be known: then it is held and
  // finally reported as failed UNKNOWN for a person, never resent on "not found" alone
  // (docs/gateways.md, "Whose reference").
  assert.equal(final.totals.recipientsSent + final.totals.recipientsFailed, 2150);
  assert.equal(final.totals.recipientsSent, all.length, 'what counts as sent is what the gateway took');
  for (const b of final.batches) if (b.status === 'failed') assert.match(b.error, /^UNKNOWN/);
  assert.ok(final.totals.batchesSent >= 2, JSON.stringify(final.totals));
});

test('a batch the gateway accepted just before the worker died is found by reference, not resent', async () => {
  const prefix = svc.app.config.REDIS_PREFIX;
  const message = `Accepted then died ${Date.now()}`;
  const id = await acceptedThenDied(message, 1200, 11, 2);

  const worker = await startService(testConfig({ REDIS_PREFIX: prefix, GATEWAY_URL: `${svc.url}/sandbox` }), {
    http: false,
    workers: true,
    modules: [smsModule()],
  });
  try {
    const final = await waitFor(
      async () => {
        const s = await statusOf(id);
        return s.state === 'done' ? s : undefined;
      },
      { what: 'done', timeoutMs: 15000, everyMs: 100 },
    );
    assert.equal(final.totals.recipientsSent, 1200);
    assert.equal(final.batches[0].status, 'sent');
  } finally {
    await worker.close();
  }
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.deepEqual(sent.map((s) => s.recipients.length).sort(), [1000, 200], 'batch 1 sent once');
});

// A batch left "sending" is resent only once the gateway has said it does not have it: a failing
// status lookup is not a "no".
test('an accepted batch whose status lookup fails is looked up again later, never resent blindly', async () => {
  const prefix = svc.app.config.REDIS_PREFIX;
  const message = `Lookup fails ${Date.now()}`;
  const id = await acceptedThenDied(message, 300, 23, 1);
  // The next status lookups fail (every retry of the first lookup call).
  assert.equal((await faults({ failNext: { code: '500', count: 3, path: 'transaction-status' } })).status, 200);

  const worker = await startService(
    testConfig({ REDIS_PREFIX: prefix, GATEWAY_URL: `${svc.url}/sandbox`, GATEWAY_MAX_ATTEMPTS: '3', GATEWAY_RETRY_BASE_MS: '5', SMS_RETRY_BASE_MS: '50' }),
    { http: false, workers: true, modules: [smsModule()] },
  );
  try {
    const final = await waitFor(
      async () => {
        const s = await statusOf(id);
        return s.state === 'done' ? s : undefined;
      },
      { what: 'done', timeoutMs: 15000, everyMs: 100 },
    );
    assert.equal(final.batches[0].status, 'sent');
    assert.equal(final.totals.recipientsSent, 300);
  } finally {
    await worker.close();
  }
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.equal(sent.length, 1, 'the batch reached the gateway once');
});
