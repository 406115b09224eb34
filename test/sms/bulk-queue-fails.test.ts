// After the guards pass (the Idempotency-Key committed, the content fingerprint recorded), a
// campaign's record and jobs are written with retries; if they still cannot be written, nothing
// of it is left behind: not its key, and not its fingerprint (or the client's retry would be
// refused as a duplicate of a campaign that never went out). The queue is made to refuse jobs
// for real: its meta hash replaced by a string, so BullMQ's own add script fails (WRONGTYPE)
// before it writes anything.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { QUEUE_NAME } from '../../src/sms/queue.js';
import { api, campaignDone } from '../support/api.js';
import { uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';

const svc = await startTestService();
after(() => svc.close());
const queueMeta = `${svc.app.queuePrefix}:${QUEUE_NAME}:meta`;
let meta: Record<string, string> = {};
const breakQueue = async () => {
  meta = await svc.app.redis.hgetall(queueMeta);
  await svc.app.redis.multi().del(queueMeta).set(queueMeta, 'not a hash').exec();
};
const mendQueue = async () => {
  await svc.app.redis.del(queueMeta);
  if (Object.keys(meta).length) await svc.app.redis.hset(queueMeta, meta);
};

const done = (id: string) => campaignDone(svc.url, id);

test('the queue refusing jobs for seconds: the request waits it out and the campaign is queued once', async () => {
  const message = `Queue hiccup ${Date.now()}`;
  await breakQueue();
  setTimeout(() => void mendQueue(), 2500);
  const t0 = Date.now();
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: uniqueNumbers(3, 11) }, { 'idempotency-key': `hiccup-${Date.now()}` });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.ok(Date.now() - t0 >= 2000, 'it waited for the queue');
  assert.equal((await done(r.json.id)).totals.recipientsSent, 3);
  assert.equal((await sandboxSms(svc.url)).filter((s) => s.message === message).length, 1);
});

test('the queue refusing jobs for good: 5xx, and the retry with the same key and list makes the campaign (no DUPLICATE_CAMPAIGN)', async () => {
  const message = `Queue down ${Date.now()}`;
  const body = { message, recipients: uniqueNumbers(3, 12) };
  const headers = { 'idempotency-key': `down-${Date.now()}` };
  await breakQueue();
  let first;
  try {
    first = await api(svc.url, 'POST', '/api/sms/bulk', body, headers);
  } finally {
    await mendQueue();
  }
  assert.ok(first.status >= 500, `${first.status} ${JSON.stringify(first.json)}`);
  const again = await api(svc.url, 'POST', '/api/sms/bulk', body, headers);
  assert.equal(again.status, 202, JSON.stringify(again.json));
  assert.equal((await done(again.json.id)).totals.recipientsSent, 3);
  assert.equal((await sandboxSms(svc.url)).filter((s) => s.message === message).length, 1, 'sent once');
});
