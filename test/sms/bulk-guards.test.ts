// A campaign is sent once (issue 16, item 5): the same Idempotency-Key names the same campaign,
// and the same message to the same list within SMS_DUPLICATE_WINDOW_S is refused unless the
// request confirms it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api, campaignDone } from '../support/api.js';
import { reformat, uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { BulkGuard } from '../../src/sms/bulk-guard.js';

// The sandbox's own duplicate-transmission window would refuse a confirmed re-send: off here.
const svc = await startTestService({ SMS_RETRY_BASE_MS: '200', SANDBOX_DUPLICATE_WINDOW_MS: '0' });
after(() => svc.close());

const done = (id: string) => campaignDone(svc.url, id);
const campaigns = async () => (await svc.app.redis.keys(`${svc.app.config.REDIS_PREFIX}sms:bulk:b*`)).filter((k) => /:b[0-9a-f]{16}$/.test(k)).length;

test('the same Idempotency-Key twice (a client retrying a slow upload): one campaign, the retry gets 200 and its status', async () => {
  const message = `Idem ${Date.now()}`;
  const csv = `phone\n${uniqueNumbers(1200, 3).join('\n')}\n`;
  const headers = { 'content-type': 'text/csv', 'idempotency-key': `retry-${Date.now()}` };
  const before = await campaigns();
  const first = await api(svc.url, 'POST', `/api/sms/bulk?message=${encodeURIComponent(message)}`, csv, headers);
  assert.equal(first.status, 202, JSON.stringify(first.json));
  const again = await api(svc.url, 'POST', `/api/sms/bulk?message=${encodeURIComponent(message)}`, csv, headers);
  assert.equal(again.status, 200, JSON.stringify(again.json));
  assert.equal(again.json.id, first.json.id);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.json.totals.valid, 1200);
  assert.equal(await campaigns(), before + 1, 'one campaign');
  await done(first.json.id);
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.deepEqual(sent.map((s) => s.recipients.length).sort(), [1000, 200], 'every recipient once');
  // A malformed key is refused.
  assert.equal((await api(svc.url, 'POST', '/api/sms/bulk', { message: 'x', recipients: ['0712000001'] }, { 'idempotency-key': 'a b' })).status, 400);
});

test('concurrent requests with one key: exactly one campaign, the others get its status or 409 while it is read', async () => {
  const key = `race-${Date.now()}`;
  const body = { message: `Race ${Date.now()}`, recipients: uniqueNumbers(50, 4) };
  const before = await campaigns();
  const rs = await Promise.all(Array.from({ length: 4 }, () => api(svc.url, 'POST', '/api/sms/bulk', body, { 'idempotency-key': key })));
  const created = rs.filter((r) => r.status === 202);
  assert.equal(created.length, 1, rs.map((r) => r.status).join(','));
  for (const r of rs.filter((x) => x.status !== 202)) {
    assert.ok(r.status === 200 || r.status === 409, `${r.status}`);
    if (r.status === 200) assert.equal(r.json.id, created[0]!.json.id);
    else assert.equal(r.json.error, 'IDEMPOTENCY_IN_PROGRESS');
  }
  assert.equal(await campaigns(), before + 1);
});

test('the same message to the same list again is refused (409, in any order or number format) unless confirmDuplicate', async () => {
  const message = `Dup ${Date.now()}`;
  const numbers = uniqueNumbers(30, 5);
  const first = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: numbers });
  assert.equal(first.status, 202);
  const shuffled = numbers.map((n, i) => reformat(n, i)).reverse();
  const dup = await api(svc.url, 'POST', `/api/sms/bulk?message=${encodeURIComponent(message)}`, `phone\n${shuffled.join('\n')}\n`, {
    'content-type': 'text/csv',
  });
  assert.equal(dup.status, 409, JSON.stringify(dup.json));
  assert.equal(dup.json.error, 'DUPLICATE_CAMPAIGN');
  assert.equal(dup.json.duplicateOf, first.json.id);
  // A different list or message is not a duplicate.
  const shorter = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: numbers.slice(1) });
  assert.equal(shorter.status, 202);
  assert.equal((await api(svc.url, 'POST', '/api/sms/bulk', { message: `${message}!`, recipients: numbers })).status, 202);
  const confirmed = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: numbers, confirmDuplicate: true });
  assert.equal(confirmed.status, 202);
  const csvConfirmed = await api(
    svc.url,
    'POST',
    `/api/sms/bulk?message=${encodeURIComponent(message)}&confirmDuplicate=true`,
    `phone\n${shuffled.join('\n')}\n`,
    { 'content-type': 'text/csv' },
  );
  assert.equal(csvConfirmed.status, 202);
  for (const id of [first.json.id, shorter.json.id, confirmed.json.id, csvConfirmed.json.id]) await done(id);
  const sent = (await sandboxSms(svc.url)).filter((s) => s.message === message);
  assert.equal(sent.length, 4, 'first, the shorter list, and the two confirmed; the refused one sent nothing');
});

test('SMS_DUPLICATE_WINDOW_S=0 turns the content check off', async () => {
  const p = await startTestService({ SMS_DUPLICATE_WINDOW_S: '0' }, { workers: false });
  try {
    const body = { message: 'Same again', recipients: ['0712000901'] };
    assert.equal((await api(p.url, 'POST', '/api/sms/bulk', body)).status, 202);
    assert.equal((await api(p.url, 'POST', '/api/sms/bulk', body)).status, 202);
  } finally {
    await p.close();
  }
});

test('a pending Idempotency-Key claim is a lease: renewed while its upload is read, free soon after its holder stops', async () => {
  const guard = new BulkGuard(svc.app, { leaseS: 1 });
  const key = `lease-${Date.now()}`;
  assert.deepEqual(await guard.claim(key, 'bholder'), { kind: 'claimed' });
  const unhold = guard.hold(key, 'bholder');
  await new Promise((r) => setTimeout(r, 2500)); // past two leases: only the renewals keep it
  assert.deepEqual(await guard.claim(key, 'bother'), { kind: 'pending', id: 'bholder' });
  unhold(); // the holder stops (crashed mid-upload): nothing renews it
  await waitFor(async () => ((await guard.claim(key, 'bother')).kind === 'claimed' ? true : undefined), {
    what: 'the lease to run out',
    timeoutMs: 2500,
    everyMs: 100,
  });
  assert.deepEqual(await guard.claim(key, 'bthird'), { kind: 'pending', id: 'bother' });
  await guard.release(key, 'bother');
  assert.deepEqual(await guard.claim(key, 'bthird'), { kind: 'claimed' }, 'released: free at once');
});
