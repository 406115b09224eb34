import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { signDlr } from '../../src/sms/dlr.js';
import { api, campaignDone } from '../support/api.js';
import { nsn, reformat, uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const svc = await startTestService({ SMS_RETRY_BASE_MS: '200', GATEWAY_RATE_LIMIT_PER_MIN: '600' });
after(() => svc.close());

const done = (id: string, timeoutMs = 20000) => campaignDone(svc.url, id, timeoutMs);

/** 2,150 unique valid + 300 repeats in other formats + 50 invalid = 2,500 lines, shuffled. */
function campaign(seed: number) {
  const unique = uniqueNumbers(2150, seed);
  const lines = [...unique];
  for (let i = 0; i < 300; i++) lines.push(reformat(unique[(i * 7) % unique.length]!, i));
  const invalid: string[] = [];
  for (let i = 0; i < 50; i++) invalid.push(['0712', 'hello', '+14155550123', '0202345678', '07123456789012'][i % 5]! + (i % 5 === 1 ? String(i) : ''));
  lines.push(...invalid);
  let s = seed;
  for (let i = lines.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return { unique, lines, invalid };
}

test('2,500 numbers (300 duplicates, 50 invalid) → exactly 1,000 / 1,000 / 150, nobody twice', async () => {
  const { unique, lines } = campaign(1);
  const message = `Promo ${Date.now()}: 20% off this week at Mama Mboga`;
  const csv = `name,phone\n${lines.map((l, i) => `cust${i},"${l}"`).join('\n')}\n`;
  const r = await api(svc.url, 'POST', `/api/sms/bulk?message=${encodeURIComponent(message)}`, csv, { 'content-type': 'text/csv' });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.equal(r.json.received, 2500);
  assert.equal(r.json.valid, 2150);
  assert.equal(r.json.duplicates, 300);
  assert.equal(r.json.invalid, 50);
  assert.equal(r.json.batches, 3);
  assert.equal(r.json.encoding, 'GSM-7');
  assert.equal(r.json.parts, 1);

  const status = await done(r.json.id);
  assert.equal(status.totals.batchesSent, 3);
  assert.equal(status.totals.batchesFailed, 0);
  assert.equal(status.totals.recipientsSent, 2150);
  assert.deepEqual(
    status.batches.map((b: { size: number; status: string }) => [b.size, b.status]),
    [
      [1000, 'sent'],
      [1000, 'sent'],
      [150, 'sent'],
    ],
  );

  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.deepEqual(
    sent.map((s) => s.recipients.length).sort((a, b) => b - a),
    [1000, 1000, 150],
  );
  const all = sent.flatMap((s) => s.recipients.map(nsn));
  assert.equal(new Set(all).size, all.length, 'no number sent twice');
  assert.deepEqual(new Set(all), new Set(unique.map(nsn)));

  const inv = await api(svc.url, 'GET', `/api/sms/bulk/${r.json.id}/invalid`);
  assert.equal(inv.json.items.length, 50);
  for (const it of inv.json.items) assert.ok(it.reason && it.reason.length > 3, JSON.stringify(it));
  assert.ok(inv.json.items.some((it: { reason: string }) => it.reason === 'not a Kenyan number'));
  assert.ok(inv.json.items.some((it: { reason: string }) => it.reason === 'not a number'));
  assert.equal(status.invalidSample.length, 20);
});

test('JSON recipients: a UCS-2 message reports its parts before sending', async () => {
  const message = `Habari 🙏 ${'ş'.repeat(70)}`; // 7 + 2 + 1 + 70 = 80 units → 2 parts of 67
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: ['0722000001', '+254722000002', 722000001, 'nope'] });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.equal(r.json.encoding, 'UCS-2');
  assert.equal(r.json.parts, 2);
  assert.equal(r.json.valid, 2);
  assert.equal(r.json.duplicates, 1);
  assert.equal(r.json.invalid, 1);
  await done(r.json.id);
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0]!.recipients.map(nsn).sort(), ['722000001', '722000002']);
});

test('multipart upload (file before the message field) and a one-number-per-line CSV', async () => {
  const message = `Multipart ${Date.now()}`;
  const form = new FormData();
  form.append('file', new Blob(['0733000001\r\n0733000002\r\n\r\n0733000001\r\n'], { type: 'text/csv' }), 'numbers.csv');
  form.append('message', message);
  const r = await api(svc.url, 'POST', '/api/sms/bulk', form);
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.deepEqual([r.json.received, r.json.valid, r.json.duplicates, r.json.batches], [3, 2, 1, 1]);
  await done(r.json.id);
  assert.equal((await sandboxSms(svc.url)).filter((s) => s.message === message).length, 1);
});

test('bad bulk requests get clear 4xx and send nothing', async () => {
  assert.equal((await api(svc.url, 'POST', '/api/sms/bulk', { recipients: ['0712000001'] })).status, 400);
  assert.equal((await api(svc.url, 'POST', '/api/sms/bulk', { message: 'hi', recipients: 'x' })).status, 400);
  assert.equal((await api(svc.url, 'POST', '/api/sms/bulk', { message: 'x'.repeat(1531), recipients: ['0712000001'] })).json.error, 'MESSAGE_TOO_LONG');
  const noCol = await api(svc.url, 'POST', '/api/sms/bulk?message=hi', 'name,city\nx,y\n', { 'content-type': 'text/csv' });
  assert.equal(noCol.status, 400);
  assert.equal(noCol.json.error, 'NO_PHONE_COLUMN');
  assert.equal((await api(svc.url, 'POST', '/api/sms/bulk', 'hi', { 'content-type': 'application/xml' })).status, 415);
  assert.equal((await api(svc.url, 'GET', '/api/sms/bulk/b0000000000000000')).status, 404);
  const unauth = await fetch(`${svc.url}/api/sms/bulk/b0000000000000000`);
  assert.equal(unauth.status, 401);
});

test('delivery reports update per-recipient status; bad signatures are refused', async () => {
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message: `DLR ${Date.now()}`, recipients: ['0711000001', '0711000002', '0711000003'] });
  const status = await done(r.json.id);
  const ref = `sms-${r.json.id}-1`;
  const post = (body: unknown, sig?: string) => {
    const raw = JSON.stringify(body);
    return fetch(`${svc.url}/callbacks/sms-dlr`, {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-kemru-signature': sig ?? signDlr(raw, svc.app.config.GATEWAY_WEBHOOK_SECRET) },
    });
  };
  const body = {
    reference: ref,
    reports: [
      { phone: '0711000001', status: 'DELIVERED' },
      { phone: '+254711000002', status: 'FAILED' },
      { phone: '0799999999', status: 'DELIVERED' },
    ],
  };
  assert.equal((await post(body, 'f'.repeat(64))).status, 401);
  const ok = await post(body);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: 'success', updated: 2, ignored: 1 });
  assert.deepEqual(await (await post(body)).json(), { status: 'success', updated: 0, ignored: 1 }, 'a repeat changes nothing');
  // By the gateway's reference too. (Final states stay final: test/sms/dlr-order.test.ts.)
  const gatewayRef = status.batches[0].gatewayRef as string | undefined;
  if (gatewayRef) assert.equal((await post({ transactionRef: gatewayRef, phone: '0711000003', status: 'DELIVERED' })).status, 200);
  else assert.equal((await post({ reference: ref, phone: '0711000003', status: 'DELIVERED' })).status, 200);
  const after = await api(svc.url, 'GET', `/api/sms/bulk/${r.json.id}`);
  assert.equal(after.json.totals.delivered, 2);
  assert.equal(after.json.totals.undelivered, 1);
  assert.equal((await post({ reference: 'sms-b0000000000000000-1', phone: '0711000001', status: 'DELIVERED' })).status, 404);
  // Junk entries in a genuine (signed) report list are ignored, not a 500.
  const junk = await post({ reference: ref, reports: [null, 7, 'x', [], { phone: '0711000001', status: 'DELIVERED' }] });
  assert.equal(junk.status, 200);
  assert.deepEqual(await junk.json(), { status: 'success', updated: 0, ignored: 4 }, 'four junk entries; the repeat changes nothing');
});

test('an upload cut off halfway sends nothing', async () => {
  const { request } = await import('node:http');
  const { Queue } = await import('bullmq');
  const { QUEUE_NAME } = await import('../../src/sms/queue.js');
  const q = new Queue(QUEUE_NAME, { connection: svc.app.queueConnection(), prefix: svc.app.queuePrefix });
  const jobsBefore = Object.values(await q.getJobCounts()).reduce((a, b) => a + b, 0);
  const metaKeys = async () => (await svc.app.redis.keys(`${svc.app.config.REDIS_PREFIX}sms:bulk:b*`)).filter((k) => /:b[0-9a-f]{16}$/.test(k));
  const known = new Set(await metaKeys());
  const req = request(`${svc.url}/api/sms/bulk?message=cut`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.app.config.API_TOKEN}`, 'content-type': 'text/csv' },
  });
  req.on('error', () => undefined);
  req.write(`phone\n${uniqueNumbers(1500, 9).join('\n')}\n`); // chunked: the server cannot know the end
  const started = await waitFor(async () => (await metaKeys()).find((k) => !known.has(k)), { what: 'intake started', timeoutMs: 15000, everyMs: 100 });
  req.destroy();
  await waitFor(async () => !(await svc.app.redis.exists(started)), { what: 'cut-off intake discarded', timeoutMs: 15000, everyMs: 100 });
  assert.equal(
    Object.values(await q.getJobCounts()).reduce((a, b) => a + b, 0),
    jobsBefore,
    'no batch enqueued',
  );
  await q.close();
});
