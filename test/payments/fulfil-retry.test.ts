// A paid order whose vend the gateway refuses with a retryable answer (rate limited, unreachable,
// down): the vend is tried again later, not refunded at the first refusal; only when the job's
// attempts are used up does the order fall back to a refund (never stuck).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { assertInvariants, faults, ledger, seedOrder, start, vendsFor, waitSms, waitState, type Svc } from './support.js';

let s: Svc;
before(async () => { s = await start({ GATEWAY_RATE_WAIT_MS: '100', PAYMENTS_RETRY_BASE_MS: '50' }); });
after(() => s.svc.close());

const paid = (tag: string, phone: string) => seedOrder(s, tag, phone, 13_000, ['awaiting_payment', 'paid']);

test('a vend refused with 429 (retryable) is retried and vended once, not refunded', async () => {
  const id = await paid('vend-429', '+254712400001');
  await faults(s, { failNext: { code: '429', count: 2, path: 'airtime' } });
  await s.payments.enqueue(id, 'fulfil');
  const done = await waitState(s, id, 'terminal', 15_000);
  assert.equal(done.state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  await waitSms(s, '+254712400001', 'Success');
  await assertInvariants(s);
});

test('still refused on the last attempt: refunded, not stuck', async () => {
  const id = await paid('vend-429-always', '+254712400002');
  await faults(s, { failNext: { code: '429', count: 1000, path: 'airtime' } });
  try {
    // The job's last attempt (BullMQ attempts are 12 here): straight to the outcome.
    assert.equal(await s.payments.runFulfil(id, { lastAttempt: true }), 'failed');
    assert.equal((await waitState(s, id, ['refunded'], 15_000)).state, 'refunded');
    assert.equal(vendsFor(await ledger(s), id).length, 0);
  } finally {
    await faults(s, { failNext: null });
  }
  await assertInvariants(s);
});
