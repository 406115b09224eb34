// Webhook events (docs/gateways.md, "Webhook events"): once subscribed, the sandbox POSTs
// { event, eventId, …the transaction record exactly as the IPN carries it } to the webhook URL
// (default: the registered callback URL), signed HMAC-SHA256(raw body, webhook secret) in the
// header GATEWAY_WEBHOOK_SIGNATURE_HEADER (default X-Kemru-Technologies-Signature: the
// documented "X-Kemru Technologies-Signature" is not a legal header name). The `unsignedIpn`
// fault sends IPNs and events without any signature.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { sign, airtime, checkout, sms, type Received, sandboxWithReceiver, ipnReceiver, sandboxApi } from './support.js';
import { startTestService } from '../../support/service.js';
import { MERCHANT } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';

const WEBHOOK_SECRET = 'whsec-events-0123456789';
const { gw, rx } = await sandboxWithReceiver({ SANDBOX_CHECKOUT_DELAY_MS: '60', GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET });
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

const hmac = (raw: string) => createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex');
const events = (ref: unknown) => rx.received.filter((r) => r.body.transactionRef === ref && r.body.event).map((r) => r.body.event);
const ipns = (ref: unknown) => rx.received.filter((r) => r.body.transactionRef === ref && !r.body.event);
const settle = () => new Promise((r) => setTimeout(r, 250));

function withoutEventFields(r: Received): Record<string, unknown> {
  const { event: _e, eventId: _i, transactionDate: _d, ...rest } = r.body;
  return rest;
}

test('nothing is sent before a merchant subscribes (SANDBOX_WEBHOOK_EVENTS defaults to none)', async () => {
  assert.deepEqual((await gw.get('/_webhooks')).body, { events: [], url: null });
  const r = await gw.post('/billing/v1/airtime/create', airtime());
  await waitFor(() => ipns(r.body.merchant_reference).length === 1);
  await settle();
  assert.deepEqual(events(r.body.merchant_reference), []);
});

test('airtime: payment.success and airtime.delivered, body = event + IPN record, signed under the webhook header', async () => {
  const sub = await gw.webhooks({ events: 'all' });
  assert.equal(sub.status, 200);
  assert.equal((sub.body.events as string[]).length, 6);
  const r = await gw.post('/billing/v1/airtime/create', { ...airtime({ amount: '77' }), metadata: { reference: 'wh-1' } });
  const ref = r.body.merchant_reference;
  await waitFor(() => events(ref).length === 2 && ipns(ref).length === 1);
  assert.deepEqual(events(ref), ['payment.success', 'airtime.delivered']);
  const ipn = ipns(ref)[0]!;
  for (const e of rx.received.filter((x) => x.body.event)) {
    assert.deepEqual(Object.keys(e.body).slice(0, 2), ['event', 'eventId']);
    assert.match(String(e.body.eventId), /^EVT\d{8}$/);
    assert.deepEqual(withoutEventFields(e), withoutEventFields(ipn), "the record is the IPN's");
    assert.equal(e.headers['x-kemru-technologies-signature'], hmac(e.raw));
    assert.equal(e.headers['x-kemru-signature'], undefined, 'events use their own header');
  }
  assert.equal(ipn.signature, hmac(ipn.raw), 'the IPN keeps X-Kemru-Signature');
  assert.equal(ipn.headers['x-kemru-technologies-signature'], undefined);
  const log = await gw.ipn();
  assert.deepEqual(
    log.map((d) => [d.kind, d.event ?? null]),
    [
      ['ipn', null],
      ['webhook', 'payment.success'],
      ['webhook', 'airtime.delivered'],
    ],
  );
});

test('checkout: checkout.initiated when the push is sent, payment.success when paid; SMS: sms.delivered only', async () => {
  await gw.webhooks({ events: ['checkout.initiated', 'payment.success', 'sms.delivered'] });
  const c = await gw.post('/billing/v1/checkout/create', checkout({ amount: '88' }));
  const ref = c.body.merchant_reference;
  const initiated = await waitFor(() => rx.received.find((x) => x.body.transactionRef === ref && x.body.event === 'checkout.initiated'));
  assert.equal(initiated.body.status, 'Pending');
  await waitFor(() => events(ref).length === 2);
  assert.deepEqual(events(ref), ['checkout.initiated', 'payment.success']);
  const s = await gw.post('/billing/v1/sms/send', sms({ message: 'hello events' }));
  await waitFor(() => events(s.body.merchant_reference).length === 1);
  await settle();
  assert.deepEqual(events(s.body.merchant_reference), ['sms.delivered']);
});

test('a cancelled checkout sends payment.failed; a reversal sends payment.reversed and the lookup says Reversed', async () => {
  await gw.webhooks({ events: ['payment.failed', 'payment.reversed'] });
  const c = await gw.post('/billing/v1/checkout/create', checkout({ phoneNumber: '0700000001' }));
  const failed = await waitFor(() => rx.received.find((x) => x.body.event === 'payment.failed'));
  assert.equal(failed.body.transactionRef, c.body.merchant_reference);
  assert.equal(failed.body.status, 'Failed');

  await gw.faults({ checkoutReversal: { count: 1, afterMs: 50 } });
  const p = await gw.post('/billing/v1/checkout/create', checkout({ amount: '99' }));
  const ref = String(p.body.merchant_reference);
  const reversed = await waitFor(() => rx.received.find((x) => x.body.event === 'payment.reversed'));
  assert.equal(reversed.body.transactionRef, ref);
  assert.equal(reversed.body.status, 'Reversed');
  assert.deepEqual(
    ipns(ref).map((x) => x.body.status),
    ['Success', 'Reversed'],
  );
  const st = await gw.post('/billing/v1/transaction-status', { MerchantID: MERCHANT, transactionRef: ref, signature: sign(MERCHANT, ref) });
  assert.equal((st.body.details as Record<string, unknown>).status, 'Reversed');
  assert.equal((await gw.ledger()).find((e) => e.ref === ref)!.final, 'Reversed');
});

test('unsignedIpn: IPNs and events go out without any signature header, until it is switched off', async () => {
  await gw.webhooks({ events: ['payment.success'] });
  await gw.faults({ unsignedIpn: true });
  const r = await gw.post('/billing/v1/airtime/create', airtime());
  await waitFor(() => rx.received.length === 2);
  for (const x of rx.received) {
    assert.equal(x.headers['x-kemru-signature'], undefined);
    assert.equal(x.headers['x-kemru-technologies-signature'], undefined);
  }
  assert.ok((await gw.ipn()).every((d) => d.signed === false));
  await gw.faults({ unsignedIpn: false });
  rx.received.length = 0;
  await gw.post('/billing/v1/airtime/create', airtime());
  await waitFor(() => rx.received.length === 2);
  assert.ok(rx.received.every((x) => x.headers['x-kemru-signature'] || x.headers['x-kemru-technologies-signature']));
  void r;
});

test('bad _webhooks bodies are refused with 400; _reset restores the configured subscription', async () => {
  assert.equal((await gw.webhooks({ events: ['payment.nope'] })).status, 400);
  assert.equal((await gw.webhooks({ events: 42 })).status, 400);
  assert.equal((await gw.webhooks({ url: 'ftp://x' })).status, 400);
  await gw.webhooks({ events: 'all', url: 'http://127.0.0.1:9/hooks' });
  await gw.reset();
  assert.deepEqual((await gw.get('/_webhooks')).body, { events: [], url: null });
});

test('SANDBOX_WEBHOOK_URL and SANDBOX_WEBHOOK_EVENTS route events to their own URL; the header name is configurable', async () => {
  const hooks = await ipnReceiver();
  closers.push(hooks.close);
  const other = await startTestService(
    {
      SANDBOX_WEBHOOK_URL: hooks.url,
      SANDBOX_WEBHOOK_EVENTS: 'payment.success',
      GATEWAY_WEBHOOK_SIGNATURE_HEADER: 'X-Test-Event-Sig',
      GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    { workers: false },
  );
  closers.push(() => other.close());
  const g = sandboxApi(other.url);
  await g.post('/billing/v1/callback-url/create', { MerchantID: MERCHANT, callbackURL: rx.url, signature: sign(MERCHANT) });
  const r = await g.post('/billing/v1/airtime/create', airtime());
  const e = await waitFor(() => hooks.received[0]);
  assert.equal(e.body.event, 'payment.success');
  assert.equal(e.body.transactionRef, r.body.merchant_reference);
  assert.equal(e.headers['x-test-event-sig'], hmac(e.raw));
  await waitFor(() => ipns(r.body.merchant_reference).length === 1);
  assert.equal(rx.received.filter((x) => x.body.event).length, 0, 'events do not go to the IPN URL');
});
