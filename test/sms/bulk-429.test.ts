import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api, campaignDone } from '../support/api.js';
import { captureLogger } from '../support/log.js';
import { nsn, uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';

const { logger, lines } = captureLogger();
// A small 429 budget in the client so a burst of 429s reaches the worker's own slow-down.
const svc = await startTestService({ SMS_RETRY_BASE_MS: '200', GATEWAY_RATE_WAIT_MS: '1500', GATEWAY_RATE_LIMIT_PER_MIN: '600' }, { logger });
after(() => svc.close());

// failNext path is the gateway's SMS path rather than just "sms": the sandbox's PAG fault gate
// currently sees every request of the service, so "sms" would also hit our own /api/sms routes.
const faults = (body: unknown) =>
  fetch(`${svc.url}/sandbox/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function campaign(seed: number, message: string) {
  const numbers = uniqueNumbers(1500, seed);
  const started = Date.now();
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: numbers });
  assert.equal(r.status, 202);
  assert.equal(r.json.batches, 2);
  const status = await campaignDone(svc.url, r.json.id, 25000);
  const ms = Date.now() - started;
  assert.equal(status.totals.batchesSent, 2, JSON.stringify(status.batches));
  assert.equal(status.totals.recipientsSent, 1500);
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.deepEqual(sent.map((s) => s.recipients.length).sort(), [1000, 500], 'each batch sent once');
  const all = sent.flatMap((s) => s.recipients.map(nsn));
  assert.deepEqual(new Set(all), new Set(numbers.map(nsn)), 'nobody lost');
  assert.equal(all.length, 1500, 'nobody twice');
  return { ms, id: r.json.id as string };
}

/** The gateway client's log lines for this campaign's batches. */
const gatewayCalls = (id: string) =>
  lines
    .map((l) => JSON.parse(l) as { msg: string; reference?: string; ms?: number; code?: string })
    .filter((l) => l.msg === 'gateway call' && l.reference?.startsWith(`sms-${id}-`));

test('429s from the gateway slow the sender down and nothing is lost', async () => {
  assert.equal((await faults({ failNext: { code: '429', count: 2, path: '/billing/v1/sms' } })).status, 200);
  const slowed = await campaign(4, `Two 429s ${Date.now()}`);
  // The sandbox answers its 429s with Retry-After (≥ 1 s): the sender waited that out.
  const calls = gatewayCalls(slowed.id);
  assert.equal(calls.length, 2);
  assert.ok(Math.max(...calls.map((c) => c.ms ?? 0)) >= 900, JSON.stringify(calls));
  assert.ok(slowed.ms >= 900, `${slowed.ms} ms`);
});

test("a burst of 429s beyond the client's budget pauses the queue and still sends everything once", async () => {
  const before = lines.length;
  assert.equal((await faults({ failNext: { code: '429', count: 8, path: '/billing/v1/sms' } })).status, 200);
  await campaign(5, `Eight 429s ${Date.now()}`);
  const log = lines.slice(before).join('');
  assert.match(log, /pausing the queue/, 'the worker slowed the whole queue down');
});
