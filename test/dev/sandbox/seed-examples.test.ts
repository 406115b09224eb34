// The gateway documents' own examples, fed literally to the sandbox (docs/gateways.md, "Phone
// numbers" and "Signatures"). The v1 reference (merchant "kyanda") writes phones as 07…; the v2
// reference (merchant "kemrut") as +254…; both must be accepted, and the signature is checked
// over the exact strings received. The documents never give their secret, so their sample
// signatures cannot be checked: instead the sandbox's signing string for each body is compared
// with the documents' worked strings, and each body is sent signed with our secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { signWith } from './support.js';
import { SECRET, startSandbox, type Sandbox } from '../../support/sandbox.js';
import { endpointNamed, signatureBase } from '../../../src/dev/sandbox/endpoints.js';

let kyanda: Sandbox; // MerchantID of the v1 examples
let kemrut: Sandbox; // MerchantID of the v2 examples
before(async () => {
  kyanda = await startSandbox({ MERCHANT_ID: 'kyanda', SANDBOX_CHECKOUT_DELAY_MS: '60000' });
  kemrut = await startSandbox({ MERCHANT_ID: 'kemrut', SANDBOX_CHECKOUT_DELAY_MS: '60000' });
});
after(async () => {
  await kyanda.close();
  await kemrut.close();
});

async function post(s: Sandbox, path: string, body: Record<string, unknown>) {
  const res = await fetch(`${s.url}/sandbox${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apiKey: 'sandbox-api-key' },
    body: JSON.stringify(body),
  });
  return { http: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The example body with its elided/unknown signature replaced by ours over the sandbox's own string. */
function resign(name: string, example: Record<string, unknown>): { body: Record<string, unknown>; base: string } {
  const base = signatureBase(endpointNamed(name)!, example);
  return { body: { ...example, signature: signWith(SECRET, base) }, base };
}

function accepted(r: { http: number; body: Record<string, unknown> }) {
  assert.equal(r.http, 200, JSON.stringify(r.body));
  assert.ok(['0000', '1100'].includes(String(r.body.status_code)), JSON.stringify(r.body));
}

// ── v1 reference (07… phones) ─────────────────────────────────────────────────

// Verbatim from the v1 airtime section, including its `phoneNumber` field name (the signature
// order calls it `phone`) and its sample signature.
const V1_AIRTIME = {
  MerchantID: 'kyanda',
  phoneNumber: '0715330000',
  amount: '1500',
  telco: 'SAFARICOM',
  initiatorPhone: '0715330000',
  signature: '092f758dec7149cc4c4cd09e2122d10016d0e2f8e2aed5d0b8a0615982ed1428',
};

test('v1 airtime example: the sandbox signs exactly the worked string "15000715330000SAFARICOM0715330000kyanda"', async () => {
  const spec = endpointNamed('airtime')!;
  assert.equal(signatureBase(spec, V1_AIRTIME), '15000715330000SAFARICOM0715330000kyanda');
  // The same with the v2 field name.
  const { phoneNumber, ...rest } = V1_AIRTIME;
  assert.equal(signatureBase(spec, { ...rest, phone: phoneNumber }), '15000715330000SAFARICOM0715330000kyanda');
  // The documents' own signature was made with a secret they do not give: a mismatch here.
  const asPublished = await post(kyanda, '/billing/v1/airtime/create', V1_AIRTIME);
  assert.equal(asPublished.body.status_code, '1104');
  // Signed with our secret over that worked string, the literal body is accepted.
  const ok = await post(kyanda, '/billing/v1/airtime/create', { ...V1_AIRTIME, signature: signWith(SECRET, '15000715330000SAFARICOM0715330000kyanda') });
  accepted(ok);
  assert.equal(ok.body.status, 'Success');
});

test('v1 mobile payout example: worked string "15000715330000John DoeGermanyMPESAkyanda", accepted as sent', async () => {
  const example = {
    MerchantID: 'kyanda',
    source: { initiatorName: 'John Doe', initiatorCountry: 'Germany' },
    destination: { destinationPhone: '0715330000', amount: '1500', channel: 'MPESA' },
    signature: '9447d0ea436cdddd75614c212b9db6f57d79b6',
  };
  const { body, base } = resign('mobile-payout', example);
  assert.equal(base, '15000715330000John DoeGermanyMPESAkyanda');
  accepted(await post(kyanda, '/billing/v3/mobile-payout/create', body));
});

test('v1 bank payout and checkout examples (07…) are accepted', async () => {
  const bank = resign('bank-payout', {
    MerchantID: 'kyanda',
    source: { initiatorName: 'John Doe', initiatorCountry: 'Germany' },
    destination: { name: 'Harry Kessy', accountNumber: '2042581154', phoneNumber: '0715330000', amount: '1500', bankCode: '101' },
    signature: 'd1c574dfa94e43f77f6d0c18d48c809466a8fde21fa6886ba2480d4952871d8f',
  });
  assert.equal(bank.base, '150020425811540715330000101John DoeGermanykyanda');
  accepted(await post(kyanda, '/billing/v3/bank-payout/create', bank.body));
  // The sample's metadata is malformed JSON ("metadata": "abc":"balloon", }); as the object it means:
  const checkout = resign('checkout', { MerchantID: 'kyanda', phoneNumber: '0715330000', amount: '1500', channel: 'MPESA', metadata: { abc: 'balloon' } });
  assert.equal(checkout.base, '15000715330000MPESAkyanda');
  accepted(await post(kyanda, '/billing/v1/checkout/create', checkout.body));
});

test('v1 PIN airtime example: phone 07… accepted; its telco DSTV is refused as the field table says (9002)', async () => {
  const pin = resign('pin-airtime', { MerchantID: 'kyanda', phone: '0715330000', amount: '1500', telco: 'DSTV', initiatorPhone: '0715330000' });
  assert.equal(pin.base, '15000715330000DSTV0715330000kyanda');
  assert.equal((await post(kyanda, '/billing/v1/pin-airtime/create', pin.body)).body.status_code, '9002');
  accepted(
    await post(
      kyanda,
      '/billing/v1/pin-airtime/create',
      resign('pin-airtime', { MerchantID: 'kyanda', phone: '0715330000', amount: '1500', telco: 'SAFARICOM', initiatorPhone: '0715330000' }).body,
    ),
  );
});

test('v1 callback registration example (signature of MerchantID only) is accepted', async () => {
  const cb = resign('callback-url', { MerchantID: 'kyanda', callbackURL: 'https://website.com/callback' });
  assert.equal(cb.base, 'kyanda');
  const r = await post(kyanda, '/billing/v1/callback-url/create', cb.body);
  accepted(r);
  assert.equal(r.body.message, 'Callback Updated!');
});

// ── v2 reference (+254… phones) ───────────────────────────────────────────────

test('v2 airtime example: both phones +254…, signed over the strings as received', async () => {
  const example = { MerchantID: 'kemrut', phone: '+254739117883', amount: '100', telco: 'SAFARICOM', initiatorPhone: '+254739117883', signature: '...' };
  const { body, base } = resign('airtime', example);
  assert.equal(base, '100+254739117883SAFARICOM+254739117883kemrut');
  accepted(await post(kemrut, '/billing/v1/airtime/create', body));
  // Signed over the 07… form instead, the same body is a mismatch: the exact strings count.
  const other = { ...example, signature: signWith(SECRET, '1000739117883SAFARICOM0739117883kemrut') };
  assert.equal((await post(kemrut, '/billing/v1/airtime/create', other)).body.status_code, '1104');
});

test('v2 checkout, mobile payout ("Kenya"), B2B and SMS/OTP examples (+254…) are accepted', async () => {
  const checkout = resign('checkout', {
    MerchantID: 'kemrut',
    phoneNumber: '+254739117883',
    amount: '1500',
    channel: 'MPESA',
    metadata: { reason: 'Invoice #1234' },
    signature: '092f758dec7149cc4c4cd09e2122d10016...',
  });
  assert.equal(checkout.base, '1500+254739117883MPESAkemrut');
  accepted(await post(kemrut, '/billing/v1/checkout/create', checkout.body));

  const payout = resign('mobile-payout', {
    MerchantID: 'kemrut',
    source: { initiatorName: 'John Doe', initiatorCountry: 'Kenya' },
    destination: { destinationPhone: '+254739117883', amount: '1500', channel: 'MPESA' },
    signature: '9447d0ea436cdddd75614c212b9db6f57d79b6',
  });
  assert.equal(payout.base, '1500+254739117883John DoeKenyaMPESAkemrut');
  accepted(await post(kemrut, '/billing/v3/mobile-payout/create', payout.body));

  const b2b = resign('b2b', {
    MerchantID: 'kemrut',
    channel: 'BusinessPayBill',
    resultUrl: 'https://yoursite.com/cb',
    destination: { shortCode: '4079491', identifier: '+254739117883', amount: '5000', remarks: 'Settlement' },
    signature: '092f758dec7149...',
  });
  assert.equal(b2b.base, 'kemrutBusinessPayBill4079491+2547391178835000');
  accepted(await post(kemrut, '/billing/v3/b2b/create', b2b.body));

  const otp = resign('sms', { MerchantID: 'kemrut', phone: '+254739117883', otp: '4823', signature: '...' });
  assert.equal(otp.base, '+2547391178834823kemrut');
  accepted(await post(kemrut, '/billing/v1/sms/send', otp.body));
  const log = (await (await fetch(`${kemrut.url}/sandbox/_sms`)).json()) as Array<{ recipients: string[]; message: string }>;
  assert.deepEqual(log.at(-1)!.recipients, ['+254739117883']);
  assert.match(log.at(-1)!.message, /4823/);
});

test('v2 telco check example body ({ MerchantID, prefix: "722" }) is accepted with our signing order', async () => {
  const t = resign('telco-check', { MerchantID: 'kemrut', prefix: '722', signature: '' });
  assert.equal(t.base, 'kemrut722');
  const r = await post(kemrut, '/api-telco-check', t.body);
  accepted(r);
  assert.equal(r.body.telco, 'SAFARICOM');
});

test('every documented phone form in every phone field: 07…, 01…, 254…, +254…', async () => {
  for (const phone of ['0715330000', '0110000000', '254715330000', '+254715330000']) {
    accepted(
      await post(
        kyanda,
        '/billing/v1/airtime/create',
        resign('airtime', { MerchantID: 'kyanda', phone, amount: String(50 + phone.length), telco: 'SAFARICOM', initiatorPhone: phone }).body,
      ),
    );
    accepted(
      await post(
        kyanda,
        '/billing/v1/bill/create',
        resign('bill', { MerchantID: 'kyanda', account: '0123456789', amount: String(60 + phone.length), telco: 'GOTV', initiatorPhone: phone }).body,
      ),
    );
    accepted(
      await post(
        kyanda,
        '/billing/v1/checkout/create',
        resign('checkout', { MerchantID: 'kyanda', phoneNumber: phone, amount: String(70 + phone.length), channel: 'MPESA' }).body,
      ),
    );
    accepted(await post(kyanda, '/billing/v1/sms/send', resign('sms', { MerchantID: 'kyanda', phone, message: `hello ${phone}` }).body));
  }
});
