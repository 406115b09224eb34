// Delivery reports in any order (issue 16, item 6): a final state is final, counts are derived
// per recipient and never go down, and reports for a batch recorded as failed are not counted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { signDlr } from '../../src/sms/dlr.js';
import { BulkStore } from '../../src/sms/bulk-store.js';
import { api } from '../support/api.js';
import { waitFor } from '../support/wait.js';

const svc = await startTestService({ SMS_RETRY_BASE_MS: '100', GATEWAY_RETRY_BASE_MS: '10' });
after(() => svc.close());

const post = async (body: unknown, base = svc.url) => {
  const raw = JSON.stringify(body);
  const res = await fetch(`${base}/callbacks/sms-dlr`, {
    method: 'POST',
    body: raw,
    headers: { 'content-type': 'application/json', 'x-kemru-signature': signDlr(raw, svc.app.config.GATEWAY_WEBHOOK_SECRET) },
  });
  return { status: res.status, json: (await res.json()) as { updated: number; ignored: number } };
};
const statusOf = async (id: string, base = svc.url) => (await api(base, 'GET', `/api/sms/bulk/${id}`)).json;
const done = (id: string) =>
  waitFor(async () => ((await statusOf(id)).state === 'done' ? statusOf(id) : undefined), { what: `bulk ${id} done`, timeoutMs: 20000, everyMs: 100 });

test('late and out-of-order reports never undo a final state; counts match the per-recipient states', async () => {
  const r = await api(svc.url, 'POST', '/api/sms/bulk', {
    message: `Order ${Date.now()}`,
    recipients: ['0714000001', '0714000002', '0714000003', '0714000004'],
  });
  await done(r.json.id);
  const reference = `sms-${r.json.id}-1`;
  const first = await post({
    reference,
    reports: [
      { phone: '0714000001', status: 'DELIVERED' },
      { phone: '0714000002', status: 'FAILED' },
      { phone: '0714000003', status: 'SENT' },
    ],
  });
  assert.deepEqual(first.json, { status: 'success', updated: 3, ignored: 0 });
  // Late reports: SENT/PENDING after DELIVERED, DELIVERED after FAILED, EXPIRED after DELIVERED.
  const late = await post({
    reference,
    reports: [
      { phone: '0714000001', status: 'SENT' },
      { phone: '0714000001', status: 'PENDING' },
      { phone: '0714000001', status: 'EXPIRED' },
      { phone: '0714000002', status: 'DELIVERED' },
      { phone: '0714000003', status: 'DELIVERED' },
      { phone: '0714000003', status: 'PENDING' },
    ],
  });
  assert.deepEqual(late.json, { status: 'success', updated: 1, ignored: 5 }, 'only 0714000003 moves (SENT → DELIVERED)');
  const s = await statusOf(r.json.id);
  assert.equal(s.totals.delivered, 2);
  assert.equal(s.totals.undelivered, 1);
  // Derived: what the per-recipient record says is what the totals say.
  const per = await svc.app.redis.hgetall(svc.app.key('sms', 'bulk', r.json.id, 'dlr'));
  assert.deepEqual(per, { '254714000001': 'DELIVERED', '254714000002': 'FAILED', '254714000003': 'DELIVERED' });
  assert.equal(Object.values(per).filter((v) => v === 'DELIVERED').length, s.totals.delivered);
});

test('reports for a batch that failed are not counted, even one that arrived before the batch was recorded', async () => {
  // A batch the gateway refuses for good (8002: not retryable).
  const f = await fetch(`${svc.url}/sandbox/_faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ failNext: { code: '8002', count: 1, path: '/billing/v1/sms/send' } }),
  });
  assert.equal(f.status, 200);
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message: `Failed ${Date.now()}`, recipients: ['0714000011', '0714000012'] });
  const s = await done(r.json.id);
  assert.equal(s.totals.batchesFailed, 1);
  const after = await post({
    reference: `sms-${r.json.id}-1`,
    reports: [
      { phone: '0714000011', status: 'DELIVERED' },
      { phone: '0714000012', status: 'FAILED' },
    ],
  });
  assert.deepEqual(after.json, { status: 'success', updated: 0, ignored: 2 });
  assert.deepEqual([(await statusOf(r.json.id)).totals.delivered, (await statusOf(r.json.id)).totals.undelivered], [0, 0]);

  // A report that races ahead of the batch's own record: counted only if the batch ends sent.
  // (No workers here: this test records the batches' outcomes itself.)
  const quiet = await startTestService({}, { workers: false });
  try {
    const store = new BulkStore(quiet.app);
    const a = await api(quiet.url, 'POST', '/api/sms/bulk', { message: `Race A ${Date.now()}`, recipients: ['0714000021'] });
    const b = await api(quiet.url, 'POST', '/api/sms/bulk', { message: `Race B ${Date.now()}`, recipients: ['0714000022'] });
    for (const [id, phone] of [
      [a.json.id, '0714000021'],
      [b.json.id, '0714000022'],
    ] as const) {
      assert.equal((await post({ reference: `sms-${id}-1`, phone, status: 'DELIVERED' }, quiet.url)).json.updated, 1);
    }
    await store.finish(a.json.id, 1, 'failed', 'X', { status: 'failed', size: 1, at: new Date().toISOString() });
    await store.finish(b.json.id, 1, 'sent', 'KYA1', { status: 'sent', size: 1, at: new Date().toISOString() });
    assert.equal((await statusOf(a.json.id, quiet.url)).totals.delivered, 0, 'the failed batch counts nothing');
    assert.equal((await statusOf(b.json.id, quiet.url)).totals.delivered, 1, 'the sent one counts its early report');
  } finally {
    await quiet.close();
  }
});
