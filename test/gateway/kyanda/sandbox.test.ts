// Integration: the real service (startTestService) calling app.gateway.* against the embedded
// sandbox gateway over real HTTP. Every endpoint is accepted; every corruption is refused with
// the documented code; faults exercise retries and the unknown-outcome lookup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { startTestService } from '../../support/service.js';
import { json } from './support.js';
import { MERCHANT, SECRET } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';
import { sandboxModule } from '../../../src/dev/sandbox/module.js';
import type { RunningService } from '../../../src/app.js';
import type { Gateway, GatewayResult } from '../../../src/gateway/types.js';
import { ENDPOINTS, type Endpoint, type WireBody } from '../../../src/gateway/kyanda/endpoints.js';
import { buildWireBody, hmacHex, signaturePayload } from '../../../src/gateway/kyanda/wire.js';

const hmac = (s: string) => createHmac('sha256', SECRET).update(s).digest('hex');

let svc: RunningService;
let gw: Gateway;
let sandbox: string;
before(async () => {
  svc = await startTestService(
    // Far more than a sandbox account's 60 requests a minute go through here: raise both limits.
    {
      GATEWAY_RATE_LIMIT_PER_MIN: '100000',
      SANDBOX_RATE_LIMIT_PER_MIN: '100000',
      GATEWAY_RETRY_BASE_MS: '50',
      SANDBOX_CHECKOUT_DELAY_MS: '100',
      GATEWAY_TIMEOUT_MS: '1000',
      GATEWAY_LOOKUP_TIMEOUT_MS: '4000',
    },
    { modules: [sandboxModule()], workers: false },
  );
  gw = svc.app.gateway;
  sandbox = `${svc.url}/sandbox`;
});
after(async () => {
  await svc.close();
});

// Distinct values per call so the sandbox's duplicate-transmission window never trips by accident.
let seq = 0;
const amount = () => (10 + (seq++ % 400)) * 100; // whole KES 10..409, in minor units
const ref = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

async function ledger(): Promise<Array<{ ref: string; endpoint: string; body: any; status: string; reference?: string }>> {
  return (await (await fetch(`${sandbox}/_ledger`)).json()) as never;
}
async function faults(body: unknown): Promise<void> {
  const r = await fetch(`${sandbox}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(r.ok, `faults ${r.status}`);
}
async function raw(path: string, body: Record<string, unknown>, headers: Record<string, string> = { apiKey: 'sandbox-api-key' }) {
  const r = await fetch(`${sandbox}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const j = (await r.json().catch(() => ({}))) as { status_code?: string; status?: string };
  return { http: r.status, code: j.status_code, status: j.status };
}
function kind(r: GatewayResult, want: GatewayResult['kind']) {
  assert.equal(r.kind, want, JSON.stringify(r.kind === 'failed' || r.kind === 'unknown' ? r.error : r.raw));
}

test('balance, callback registration and telco check', async () => {
  const b = await gw.balance();
  assert.ok(b.floatMinor > 0);
  kind(await gw.registerCallback(`${svc.url}/callbacks/kyanda`), 'succeeded');
  assert.deepEqual(await gw.telcoCheck('722'), { telco: 'SAFARICOM' });
  assert.deepEqual(await gw.telcoCheck('0110'), { telco: 'SAFARICOM' });
});

test('airtime, FAIBA bundle and PIN airtime succeed and reduce the float', async () => {
  const before = (await gw.balance()).floatMinor;
  const a = amount();
  const r = await gw.airtime({ phone: '+254712345678', amountMinor: a, telco: 'SAFARICOM', initiatorPhone: '+254712345678' }, { reference: ref('air') });
  kind(r, 'succeeded');
  assert.ok((await gw.balance()).floatMinor <= before - a);
  kind(
    await gw.airtime(
      { phone: '0747000111', amountMinor: 5000, telco: 'FAIBA_B', initiatorPhone: '0712345678', productCode: 'DailyData1GB' },
      { reference: ref('faiba') },
    ),
    'succeeded',
  );
  kind(
    await gw.pinAirtime({ phone: '0733000222', amountMinor: amount(), telco: 'AIRTEL', initiatorPhone: '0712345678' }, { reference: ref('pin') }),
    'succeeded',
  );
});

test('Kenya Power prepaid returns a 20-digit token; TV bill succeeds', async () => {
  const r = await gw.payBill(
    { biller: 'KPLC_PREPAID', account: '14234567890', amountMinor: amount(), initiatorPhone: '0712345678' },
    { reference: ref('kplc') },
  );
  kind(r, 'succeeded');
  if (r.kind === 'succeeded') assert.match(r.details?.token ?? '', /^\d{20}$/);
  kind(await gw.payBill({ biller: 'DSTV', account: '7012345', amountMinor: amount(), initiatorPhone: '0712345678' }, { reference: ref('dstv') }), 'succeeded');
  kind(
    await gw.payBill({ biller: 'KPLC_POSTPAID', account: '2233445', amountMinor: amount(), initiatorPhone: '0712345678' }, { reference: ref('kplcpost') }),
    'succeeded',
  );
});

test('async endpoints answer pending; status by the gateway reference finds them, by ours it does not; lookup() picks the right one', async () => {
  const reference = ref('co');
  const co = await gw.checkout({ phone: '0712345678', amountMinor: amount(), channel: 'MPESA', metadata: { reason: 'test' } }, { reference });
  kind(co, 'pending');
  assert.ok(co.kind === 'pending');
  const done = await waitFor(
    async () => {
      const u = await gw.transactionStatus(co.gatewayRef);
      return u?.status === 'succeeded' ? u : null;
    },
    { everyMs: 50 },
  );
  assert.equal(done.reference, reference, 'our reference comes back in the record');
  // transaction-status takes the reference the gateway returned (docs/gateways.md, "Whose reference").
  assert.equal(await gw.transactionStatus(reference), null);
  assert.equal((await gw.verifyTransaction(co.gatewayRef))?.gatewayRef, co.gatewayRef);
  const byTheirs = await gw.lookup({ gatewayRef: co.gatewayRef, reference });
  assert.equal(byTheirs.kind === 'found' && byTheirs.update.status, 'succeeded');
  // Without their reference, verify is asked with ours.
  const byOurs = await gw.lookup({ reference });
  assert.equal(byOurs.kind === 'found' && byOurs.update.gatewayRef, co.gatewayRef);
  // Not found under our reference proves nothing with this gateway.
  assert.deepEqual(await gw.lookup({ reference: ref('never-sent') }), { kind: 'not_found', proof: false });
  kind(
    await gw.mobilePayout(
      { phone: '0715330000', amountMinor: amount(), channel: 'MPESA', initiatorName: 'John Doe', initiatorCountry: 'Kenya' },
      { reference: ref('mp') },
    ),
    'pending',
  );
  kind(
    await gw.bankPayout(
      {
        name: 'Harry Kessy',
        accountNumber: '2042581154',
        phone: '0715330000',
        bankCode: '105',
        amountMinor: amount(),
        initiatorName: 'John Doe',
        initiatorCountry: 'Kenya',
      },
      { reference: ref('bp') },
    ),
    'pending',
  );
  kind(
    await gw.b2b(
      {
        channel: 'BusinessPayBill',
        shortCode: '4079491',
        identifier: '0739117883',
        amountMinor: amount(),
        remarks: 'Settlement',
        resultUrl: `${svc.url}/b2b-result`,
      },
      { reference: ref('b2b') },
    ),
    'pending',
  );
  kind(
    await gw.upiTransfer!(
      {
        senderAccount: '1000200',
        senderChannel: 101,
        recipientAccount: '3000400',
        recipientChannel: 301,
        amountMinor: amount(),
        senderCurrency: 'KES',
        recipientCurrency: 'KES',
        narration: 'loan',
      },
      { reference: ref('upi') },
    ),
    'pending',
  );
  assert.equal(await gw.transactionStatus('KYA-NO-SUCH-REF'), null);
});

test('SMS and bulk SMS are sent to the recipients', async () => {
  const msg = `hello ${randomUUID().slice(0, 6)}`;
  kind(await gw.sendSms({ phone: '0712345678', message: msg }, { reference: ref('sms') }), 'succeeded');
  kind(await gw.sendSms({ phone: '0712345678', message: '', otp: '4823' }, { reference: ref('otp') }), 'succeeded');
  kind(await gw.bulkSms({ phones: ['0712345678', '+254733000222'], message: `${msg} bulk` }, { reference: ref('bulk') }), 'succeeded');
  const sms = (await (await fetch(`${sandbox}/_sms`)).json()) as Array<{ recipients: string[]; message: string }>;
  assert.ok(sms.some((s) => s.message === msg && s.recipients.includes('+254712345678')));
  assert.ok(sms.some((s) => s.message === `${msg} bulk` && s.recipients.length === 2));
});

// ---- corruptions, sent raw so the client's own validation cannot hide them ----

function airtimeBody(over: Record<string, unknown> = {}) {
  const b: Record<string, unknown> = {
    MerchantID: MERCHANT,
    phone: '0712345678',
    amount: String(10 + (seq++ % 400)),
    telco: 'SAFARICOM',
    initiatorPhone: '+254712345678',
    ...over,
  };
  b.signature = hmac(`${b.amount ?? ''}${b.phone ?? ''}${b.telco ?? ''}${b.initiatorPhone ?? ''}${b.MerchantID ?? ''}`);
  return b;
}
function billBody(over: Record<string, unknown> = {}) {
  const b: Record<string, unknown> = {
    MerchantID: MERCHANT,
    account: '7012345',
    amount: String(10 + (seq++ % 400)),
    telco: 'GOTV',
    initiatorPhone: '+254712345678',
    ...over,
  };
  b.signature = hmac(`${b.amount ?? ''}${b.account ?? ''}${b.telco ?? ''}${b.initiatorPhone ?? ''}${b.MerchantID ?? ''}`);
  return b;
}
function checkoutBody(over: Record<string, unknown> = {}) {
  const b: Record<string, unknown> = { MerchantID: MERCHANT, phoneNumber: '0712345678', amount: String(10 + (seq++ % 400)), channel: 'MPESA', ...over };
  b.signature = hmac(`${b.amount ?? ''}${b.phoneNumber ?? ''}${b.channel ?? ''}${b.MerchantID ?? ''}`);
  return b;
}

test('a correctly signed raw request is accepted (control for the corruptions below)', async () => {
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody())).code, '0000');
  assert.equal((await raw('/billing/v1/bill/create', billBody())).code, '0000');
});

test('wrong or missing apiKey → 1102 (HTTP 401)', async () => {
  assert.deepEqual(await raw('/billing/v1/airtime/create', airtimeBody(), { apiKey: 'wrong' }), { http: 401, code: '1102', status: 'Failed' });
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody(), {})).code, '1102');
});

test('tampered signature → 1104; wrong MerchantID → 1101', async () => {
  const b = airtimeBody();
  b.amount = String(Number(b.amount) + 1);
  assert.equal((await raw('/billing/v1/airtime/create', b)).code, '1104');
  assert.equal((await raw('/billing/v1/bill/create', { ...billBody(), signature: 'ab'.repeat(32) })).code, '1104');
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ MerchantID: 'someone-else' }))).code, '1101');
});

test('missing field → 1108', async () => {
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ phone: undefined }))).code, '1108');
  assert.equal((await raw('/billing/v1/bill/create', billBody({ account: undefined }))).code, '1108');
});

test('FAIBA_B without productCode → 1108 (news Oct 2024: "Omitting it returns error 1108")', async () => {
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ telco: 'FAIBA_B', amount: '50' }))).code, '1108');
});

test('bad phone → 9001 (airtime) / 8002 (checkout)', async () => {
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ phone: '12345' }))).code, '9001');
  assert.equal((await raw('/billing/v1/checkout/create', checkoutBody({ phoneNumber: '07123' }))).code, '8002');
});

test('unknown telco/biller/channel → 9002 (airtime) / 8003 (bill, checkout)', async () => {
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ telco: 'ORANGE' }))).code, '9002');
  assert.equal((await raw('/billing/v1/bill/create', billBody({ telco: 'NOT_A_BILLER' }))).code, '8003');
  assert.equal((await raw('/billing/v1/checkout/create', checkoutBody({ channel: 'PAYPAL' }))).code, '8003');
});

test('bad amount → 9003 (airtime) / 8004 (bill); over limit → 9004', async () => {
  for (const a of ['abc', '-5', '10.5', '0']) {
    assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ amount: a }))).code, '9003', a);
    assert.equal((await raw('/billing/v1/bill/create', billBody({ amount: a }))).code, '8004', a);
  }
  assert.equal((await raw('/billing/v1/airtime/create', airtimeBody({ amount: '10001' }))).code, '9004');
});

test('the same signed request twice → duplicate transmission 9005 / 8006', async () => {
  const a = airtimeBody();
  assert.equal((await raw('/billing/v1/airtime/create', a)).code, '0000');
  assert.equal((await raw('/billing/v1/airtime/create', a)).code, '9005');
  const b = billBody();
  assert.equal((await raw('/billing/v1/bill/create', b)).code, '0000');
  assert.equal((await raw('/billing/v1/bill/create', b)).code, '8006');
});

test('the client maps sandbox refusals to typed failures', async () => {
  const r = await gw.bankPayout(
    { name: 'A B', accountNumber: '2042581154', phone: '0712345678', bankCode: '105', amountMinor: 20_000_000, initiatorName: 'A', initiatorCountry: 'Kenya' },
    { reference: ref('big') },
  );
  kind(r, 'failed');
  if (r.kind === 'failed') {
    assert.equal(r.error.code, '8005');
    assert.equal(r.error.retryable, false);
  }
  const u = await gw.airtime(
    { phone: '0747000111', amountMinor: 5000, telco: 'FAIBA_B', initiatorPhone: '0712345678', productCode: 'NO_SUCH_BUNDLE' },
    { reference: ref('nb') },
  );
  kind(u, 'failed');
  if (u.kind === 'failed') assert.equal(u.error.code, '1109');
});

// ---- faults ----

test('1105 twice then success: the client retries and the sandbox accepts exactly one airtime', async () => {
  const reference = ref('f1105');
  await faults({ failNext: { code: '1105', count: 2, path: 'airtime' } });
  const r = await gw.airtime({ phone: '0712345678', amountMinor: amount(), telco: 'SAFARICOM', initiatorPhone: '0712345678' }, { reference });
  kind(r, 'succeeded');
  assert.equal((await ledger()).filter((e) => e.reference === reference || e.body?.metadata?.reference === reference).length, 1);
});

test('slow gateway: timeout after sending → looked up by our reference, never re-sent', async () => {
  const reference = ref('slow');
  // Every request takes 2 s: the airtime times out at 1 s (GATEWAY_TIMEOUT_MS), the lookup
  // (own 4 s budget) arrives after the airtime was processed and finds it.
  await faults({ latencyMs: 2000 });
  try {
    const r = await gw.airtime({ phone: '0712345678', amountMinor: amount(), telco: 'SAFARICOM', initiatorPhone: '0712345678' }, { reference });
    kind(r, 'succeeded');
  } finally {
    await faults({ latencyMs: 0 });
  }
  const entries = await waitFor(
    async () => {
      const l = (await ledger()).filter((e) => e.reference === reference || e.body?.metadata?.reference === reference);
      return l.length > 0 ? l : null;
    },
    { everyMs: 50 },
  );
  assert.equal(entries.length, 1, 'exactly one airtime reached the sandbox');
});

test('down: offline_mode is accepted (queued); without it 1105 after bounded retries', async () => {
  await faults({ down: true });
  try {
    const q = await gw.airtime(
      { phone: '0712345678', amountMinor: amount(), telco: 'SAFARICOM', initiatorPhone: '0712345678' },
      { reference: ref('off'), offlineMode: true },
    );
    kind(q, 'accepted');
    const f = await gw.airtime({ phone: '0712345678', amountMinor: amount(), telco: 'SAFARICOM', initiatorPhone: '0712345678' }, { reference: ref('down') });
    kind(f, 'failed');
    if (f.kind === 'failed') {
      assert.equal(f.error.code, '1105');
      assert.equal(f.error.retryable, true);
    }
  } finally {
    await faults({ down: false });
  }
});

test('CallOptions.offlineMode while the gateway is up: accepted (QUEUED) with its reference, then done', async () => {
  const reference = ref('offup');
  const r = await gw.payBill({ biller: 'GOTV', account: '7012345', amountMinor: amount(), initiatorPhone: '0712345678' }, { reference, offlineMode: true });
  kind(r, 'accepted');
  assert.match(r.kind === 'accepted' ? (r.gatewayRef ?? '') : '', /^KYASBX/);
  const entry = (await ledger()).find((e) => e.reference === reference)!;
  assert.equal(entry.body.offline_mode, true);
  assert.equal(entry.status, 'QUEUED');
  const done = await waitFor(
    async () => {
      const u = await gw.transactionStatus(r.kind === 'accepted' ? r.gatewayRef! : reference);
      return u?.status === 'succeeded' ? u : null;
    },
    { everyMs: 50 },
  );
  assert.equal(done.reference, reference);
});

test('429 from the gateway: the client honours Retry-After and the bill goes through once', async () => {
  const reference = ref('r429');
  await faults({ failNext: { code: '429', count: 1, path: 'bill' } });
  const t0 = Date.now();
  const r = await gw.payBill({ biller: 'GOTV', account: '7012345', amountMinor: amount(), initiatorPhone: '0712345678' }, { reference });
  kind(r, 'succeeded');
  assert.ok(Date.now() - t0 >= 990, 'waited for Retry-After: 1');
  assert.equal((await ledger()).filter((e) => e.reference === reference).length, 1);
});

test('IPN end to end: the sandbox signs, the client verifies and parses (cancelled checkout)', async () => {
  const received: Array<{ headers: Record<string, string | string[] | undefined>; raw: string }> = [];
  const { createServer } = await import('node:http');
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      json(res, 200, { status: 'success' });
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    kind(await gw.registerCallback(`http://127.0.0.1:${port}/ipn`), 'succeeded');
    const reference = ref('cancel');
    const co = await gw.checkout({ phone: '0700000001', amountMinor: amount(), channel: 'MPESA' }, { reference });
    kind(co, 'pending');
    const ipn = await waitFor(async () => received.find((x) => x.raw.includes(reference)), { everyMs: 50 });
    const parsed = gw.parseCallback(ipn.headers, ipn.raw);
    assert.ok(parsed.ok && parsed.signed, 'signature verified');
    const u = parsed.update;
    assert.equal(u.status, 'failed');
    assert.equal(u.code, '5000');
    assert.equal(u.reference, reference);
    assert.equal(u.details.reason, 'CANCELLED_BY_USER');
    if (co.kind === 'pending') assert.equal(u.gatewayRef, co.gatewayRef);
    assert.deepEqual(gw.parseCallback(ipn.headers, ipn.raw.replace('CANCELLED_BY_USER', 'OK')), { ok: false, why: 'bad_signature' }, 'tampered IPN refused');
    assert.ok(co.kind === 'pending');
    const looked = await gw.transactionStatus(co.gatewayRef);
    assert.equal(looked?.status, 'failed');
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
    await gw.registerCallback(`${svc.url}/callbacks/kyanda`);
  }
});

// ---- every money/SMS endpoint × every corruption, from the client's own wire bodies ----

interface Case {
  ep: Endpoint<any>;
  req: () => unknown;
  amount?: string;
  choice?: string;
  choiceCode?: string;
}
const cases: Case[] = [
  {
    ep: ENDPOINTS.airtime,
    req: () => ({ phone: '0712345678', amountMinor: amount(), telco: 'SAFARICOM', initiatorPhone: '0712345678' }),
    amount: 'amount',
    choice: 'telco',
  },
  {
    ep: ENDPOINTS.pinAirtime,
    req: () => ({ phone: '0712345678', amountMinor: amount(), telco: 'TELKOM', initiatorPhone: '0712345678' }),
    amount: 'amount',
    choice: 'telco',
  },
  {
    ep: ENDPOINTS.bill,
    req: () => ({ biller: 'ZUKU', account: '7012345', amountMinor: amount(), initiatorPhone: '0712345678' }),
    amount: 'amount',
    choice: 'telco',
  },
  { ep: ENDPOINTS.checkout, req: () => ({ phone: '0712345678', amountMinor: amount(), channel: 'AIRTEL' }), amount: 'amount', choice: 'channel' },
  {
    ep: ENDPOINTS.mobilePayout,
    req: () => ({ phone: '0712345678', amountMinor: amount(), channel: 'EQUITEL', initiatorName: 'Jane Doe', initiatorCountry: 'Kenya' }),
    amount: 'destination.amount',
    choice: 'destination.channel',
  },
  {
    ep: ENDPOINTS.bankPayout,
    req: () => ({
      name: 'Jane Doe',
      accountNumber: '2042581154',
      phone: '0712345678',
      bankCode: '103',
      amountMinor: amount(),
      initiatorName: 'Jane Doe',
      initiatorCountry: 'Kenya',
    }),
    amount: 'destination.amount',
    choice: 'destination.bankCode',
    choiceCode: '1201',
  },
  {
    ep: ENDPOINTS.b2b,
    req: () => ({
      channel: 'BusinessBuyGoods',
      shortCode: '512345',
      identifier: '0712345678',
      amountMinor: amount(),
      remarks: 'x',
      resultUrl: `${svc.url}/b2b`,
    }),
    amount: 'destination.amount',
    choice: 'channel',
  },
  {
    ep: ENDPOINTS.upiTransfer,
    req: () => ({
      senderAccount: '1000200',
      senderChannel: 201,
      recipientAccount: '3000400',
      recipientChannel: 102,
      amountMinor: amount(),
      senderCurrency: 'KES',
      recipientCurrency: 'KES',
    }),
    amount: 'amount',
    choice: 'sender.channel',
  },
  { ep: ENDPOINTS.sms, req: () => ({ phone: '0712345678', message: `m${seq++}` }) },
  { ep: ENDPOINTS.bulkSms, req: () => ({ phones: ['0712345678', '0733000222'], message: `b${seq++}` }) },
];

function setPath(b: WireBody, path: string, value: unknown): void {
  const parts = path.split('.');
  const last = parts.pop()!;
  let cur = b as Record<string, unknown>;
  for (const p of parts) cur = cur[p] as Record<string, unknown>;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}
function build(c: Case, mutate?: (b: WireBody) => void): WireBody {
  const b = buildWireBody(c.ep, c.req() as never, { merchantId: MERCHANT, config: svc.app.config }, SECRET, { reference: ref(c.ep.name) })!;
  if (mutate) {
    mutate(b);
    b.signature = hmacHex(signaturePayload(c.ep as Endpoint<never>, b), SECRET); // still correctly signed
  }
  return b;
}
const send = (c: Case, b: WireBody, headers?: Record<string, string>) => raw(c.ep.path(undefined as never), b, headers);

for (const c of cases) {
  const fam = c.ep.family === 'airtime' ? { phone: '9001', amount: '9003', choice: '9002' } : { phone: '8002', amount: '8004', choice: '8003' };
  test(`${c.ep.name}: accepted; wrong apiKey 1102, tampered 1104, missing 1108${Object.keys(c.ep.phones).length ? `, bad phone ${fam.phone}` : ''}${c.amount ? `, bad amount ${fam.amount}` : ''}${c.choice ? `, unknown ${c.choice} ${c.choiceCode ?? fam.choice}` : ''}`, async () => {
    const good = await send(c, build(c));
    assert.ok(good.code === '0000' || good.code === '1100', `accepted: ${JSON.stringify(good)}`);
    assert.equal((await send(c, build(c), { apiKey: 'not-the-key' })).code, '1102');
    const tampered = build(c);
    tampered.signature = hmacHex(`${signaturePayload(c.ep as Endpoint<never>, tampered)}x`, SECRET);
    assert.equal((await send(c, tampered)).code, '1104');
    assert.equal(
      (
        await send(
          c,
          build(c, (b) => setPath(b, 'MerchantID', undefined)),
        )
      ).code,
      '1108',
    );
    const phonePath = Object.keys(c.ep.phones)[0];
    if (phonePath) {
      const bad = phonePath === 'phones' ? ['0712345678', '12345'] : '12345';
      assert.equal(
        (
          await send(
            c,
            build(c, (b) => setPath(b, phonePath, bad)),
          )
        ).code,
        fam.phone,
        'bad phone',
      );
    }
    if (c.amount)
      assert.equal(
        (
          await send(
            c,
            build(c, (b) => setPath(b, c.amount!, '10.5')),
          )
        ).code,
        fam.amount,
        'bad amount',
      );
    if (c.choice)
      assert.equal(
        (
          await send(
            c,
            build(c, (b) => setPath(b, c.choice!, '999')),
          )
        ).code,
        c.choiceCode ?? fam.choice,
        'unknown telco/channel',
      );
  });
}
