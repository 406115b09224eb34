// A paid order whose vend the gateway refuses with a retryable answer (rate limited, unreachable,
// down): the vend is tried again later, not refunded at the first refusal; once the step's
// retry budget (MONEY_RETRY_BUDGET_S) is spent the order goes to needs_attention, where an
// operator retries it or closes it with a reason. A refund whose payout keeps failing has the
// same budget: it ends in needs_attention, never retried forever.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { assertInvariants, faults, ledger, seedOrder, start, vendsFor, waitSms, waitState, type Svc } from './support.js';

let s: Svc;
before(async () => {
  s = await start({ GATEWAY_RATE_WAIT_MS: '100', PAYMENTS_RETRY_BASE_MS: '50', PAYMENTS_MAX_WAIT_MS: '200', MONEY_RETRY_BUDGET_S: '2' });
});
after(() => s.svc.close());

const paid = (tag: string, phone: string) => seedOrder(s, tag, phone, 13_000, ['awaiting_payment', 'paid']);
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${s.url}${path}`, {
    ...init,
    headers: { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json', ...(init.headers ?? {}) },
  });

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

test('refused past the retry budget: needs_attention (listed, counted), then an operator retries it and it is vended once', async () => {
  const id = await paid('vend-429-always', '+254712400002');
  await faults(s, { failNext: { code: '429', count: 100_000, path: 'airtime' } });
  try {
    await s.payments.enqueue(id, 'fulfil');
    const parked = await waitState(s, id, ['needs_attention'], 15_000);
    assert.match(parked.attention!, /fulfil unresolved after 2 s/);
    assert.equal(parked.attentionStep, 'fulfil');
    assert.equal(vendsFor(await ledger(s), id).length, 0);
    const listed = (await (await api('/api/orders?state=needs_attention')).json()) as {
      orders: Array<{ id: string; state: string; reason?: string; amount: number; phone: string; createdAt: string }>;
    };
    const row = listed.orders.find((o) => o.id === id);
    assert.ok(row, 'listed');
    assert.equal(row.state, 'needs_attention');
    assert.equal(row.amount, 130);
    assert.equal(row.phone, '+254712400002');
    assert.match(row.reason!, /unresolved/);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /orders_needing_attention \d+/);
    assert.match(metrics, /orders_needs_attention_total\{step="fulfil"\} \d+/);
    // Every refused vend is on the wire, counted by endpoint and outcome (the sandbox's 429s).
    const refused = /gateway_request_seconds_count\{endpoint="[^"]*airtime[^"]*",gateway="kyanda",outcome="4xx"\} (\d+)/.exec(metrics);
    assert.ok(refused && Number(refused[1]) >= 2, 'gateway 4xx answers counted per endpoint');
    // Closing needs a reason.
    assert.equal((await api(`/api/orders/${id}/close`, { method: 'POST', body: '{}' })).status, 400);
  } finally {
    await faults(s, { failNext: null });
  }
  // The gateway is fine again: the operator retries; one vend.
  const r = await api(`/api/orders/${id}/retry`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 200, await r.text());
  assert.equal((await waitState(s, id, ['fulfilled'], 15_000)).state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  assert.ok((await s.payments.store.history(id)).some((h) => h.from === 'needs_attention' && /retried by operator/.test(h.cause)));
  assert.equal((await api(`/api/orders/${id}/retry`, { method: 'POST', body: '{}' })).status, 409, 'a fulfilled order has nothing to retry');
  await assertInvariants(s);
});

test('an operator closes a needs_attention order with a reason, kept in its history', async () => {
  const id = await paid('vend-close', '+254712400003');
  await faults(s, { failNext: { code: '429', count: 100_000, path: 'airtime' } });
  try {
    await s.payments.enqueue(id, 'fulfil');
    await waitState(s, id, ['needs_attention'], 15_000);
  } finally {
    await faults(s, { failNext: null });
  }
  const r = await api(`/api/orders/${id}/close`, { method: 'POST', body: JSON.stringify({ reason: 'refunded by hand, ticket 4411' }) });
  assert.equal(r.status, 200, await r.text());
  const o = await s.payments.store.get(id);
  assert.equal(o?.state, 'closed');
  const h = await s.payments.store.history(id);
  assert.match(h.at(-1)!.cause, /closed by operator \(API\): refunded by hand, ticket 4411/);
  assert.equal(vendsFor(await ledger(s), id).length, 0);
  await assertInvariants(s);
});

const refunding = (tag: string, phone: string) => seedOrder(s, tag, phone, 13_000, ['awaiting_payment', 'paid', 'fulfilling', 'refunding']);
const payoutsFor = async (id: string) => (await ledger(s)).filter((e) => e.endpoint === 'mobile-payout' && e.reference?.startsWith(`${id}-refund`));

test('a refund whose payout is refused (429) past the retry budget: needs_attention, nothing paid out', async () => {
  const id = await refunding('refund-429-always', '+254712400004');
  await faults(s, { failNext: { code: '429', count: 100_000, path: 'mobile-payout' } });
  try {
    await s.payments.enqueue(id, 'refund1');
    const parked = await waitState(s, id, ['needs_attention'], 15_000);
    assert.match(parked.attention!, /^refund1 unresolved after 2 s/);
    assert.equal(parked.attentionStep, 'refund1');
    assert.equal(parked.attentionFrom, 'refunding');
    assert.equal((await payoutsFor(id)).length, 0);
  } finally {
    await faults(s, { failNext: null });
  }
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await s.payments.store.get(id))?.state, 'needs_attention', 'stays parked for a person');
  await assertInvariants(s);
});

test('a refund whose payout keeps failing outright (1107, each attempt under a new reference) stops at the budget: needs_attention', async () => {
  const id = await refunding('refund-1107-always', '+254712400005');
  await faults(s, { failNext: { code: '1107', count: 100_000, path: 'mobile-payout' } });
  try {
    await s.payments.enqueue(id, 'refund1');
    const parked = await waitState(s, id, ['needs_attention'], 15_000);
    assert.match(parked.attention!, /^refund still failing after 2 s \(\d+ attempts; last payout reply: refund\d+ failed 1107/);
    assert.match(parked.attentionStep!, /^refund\d+$/);
    assert.equal(parked.attentionFrom, 'refunding');
    const attempts = parked.refundAttempt ?? 1;
    await new Promise((r) => setTimeout(r, 2500));
    const later = await s.payments.store.get(id);
    assert.equal(later?.state, 'needs_attention');
    assert.equal(later?.refundAttempt ?? 1, attempts, 'no further refund attempt once parked');
  } finally {
    await faults(s, { failNext: null });
  }
  assert.equal((await payoutsFor(id)).length, 0);
  await assertInvariants(s);
});
