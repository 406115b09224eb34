// Per endpoint: the body the client actually puts on the wire (captured by a real HTTP peer),
// its signature recomputed here from the documented field order written out literally, and
// the phone format of every phone field: one format for all of them (docs/gateways.md, "Phone
// numbers"). Orders are NOT imported from endpoints.ts on purpose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startPeer, json, gateway, type Peer, type Seen } from './support.js';
import { SECRET, MERCHANT } from '../../support/sandbox.js';
import { closeSharedRedis } from '../../support/redis.js';
import type { Gateway } from '../../../src/gateway/types.js';

const hmac = (s: string) => createHmac('sha256', SECRET).update(s).digest('hex');
const ok = { status: 'Success', status_code: '0000', merchant_reference: 'KYA1', message: 'ok' };

let peer: Peer;
let gw: Gateway;
before(async () => {
  peer = await startPeer((req, res) => {
    if (req.path === '/api-link') return json(res, 200, { status: 'Success', status_code: '0000', Account_Bal: 399930, Earnings_Bal: 1586.6 });
    if (req.path === '/api-telco-check') return json(res, 200, { status_code: '0000', telco: 'SAFARICOM' });
    if (req.path.includes('transaction-status') || req.path.endsWith('/verify')) {
      return json(res, 200, {
        status: '200',
        status_code: '0000',
        details: { status: 'Success', status_code: '0000', transactionRef: 'KYA9', amount: '1500', requestMetadata: { reference: 'r' }, details: {} },
      });
    }
    json(res, 200, ok);
  });
  gw = await gateway(peer.url, { BILLER_KPLC_PREPAID: 'KPLC_PRE_TEST' });
});
after(async () => {
  await gw.close();
  await peer.close();
  await closeSharedRedis();
});

const last = (): Seen => peer.seen.at(-1)!;
const opts = (reference: string) => ({ reference });

test('balance: POST /api-link, signature MerchantID', async () => {
  const bal = await gw.balance();
  assert.deepEqual(bal, { floatMinor: 39993000, earningsMinor: 158660 });
  const s = last();
  assert.equal(s.path, '/api-link');
  assert.equal(s.headers.apikey, 'sandbox-api-key');
  assert.equal(s.headers['content-type'], 'application/json');
  assert.equal(s.body.signature, hmac(MERCHANT));
});

test('transactionStatus: MerchantID + transactionRef', async () => {
  const u = await gw.transactionStatus('KYA9');
  assert.equal(u?.status, 'succeeded');
  assert.equal(u?.amountMinor, 150000);
  assert.equal(last().path, '/billing/v1/transaction-status');
  assert.equal(last().body.signature, hmac(`${MERCHANT}KYA9`));
});

test('verify: GET /transactions/{ref}/verify, apiKey only', async () => {
  const u = await gw.verifyTransaction('KYA 9/x');
  assert.equal(u?.gatewayRef, 'KYA9');
  assert.equal(last().method, 'GET');
  assert.equal(last().path, '/transactions/KYA%209%2Fx/verify');
  assert.equal(last().headers.apikey, 'sandbox-api-key');
  assert.equal(last().body, undefined);
});

test('airtime: amount + phone(07) + telco + initiatorPhone(07) + MerchantID; metadata.reference', async () => {
  const r = await gw.airtime({ phone: '+254712345678', amountMinor: 150000, telco: 'SAFARICOM', initiatorPhone: '+254722000111' }, opts('ord-1:air'));
  assert.equal(r.kind, 'succeeded');
  const b = last().body;
  assert.equal(last().path, '/billing/v1/airtime/create');
  assert.equal(b.phone, '0712345678');
  assert.equal(b.initiatorPhone, '0722000111', 'both phones in the one format, as in the documented worked string');
  assert.equal(b.amount, '1500');
  assert.deepEqual(b.metadata, { reference: 'ord-1:air' });
  assert.equal(b.productCode, undefined);
  assert.equal(b.signature, hmac(`15000712345678SAFARICOM0722000111${MERCHANT}`));
});

test('the documented worked airtime string: the client signs exactly "15000715330000SAFARICOM0715330000kyanda"', async () => {
  const kyanda = await gateway(peer.url, { MERCHANT_ID: 'kyanda' });
  try {
    await kyanda.airtime({ phone: '+254715330000', amountMinor: 150000, telco: 'SAFARICOM', initiatorPhone: '254715330000' }, opts('worked-1'));
    assert.equal(last().body.signature, hmac('15000715330000SAFARICOM0715330000kyanda'));
  } finally {
    await kyanda.close();
  }
});

test('GATEWAY_PHONE_FORMAT=e164 sends every phone field as +254…, still one format per request', async () => {
  const e164 = await gateway(peer.url, { GATEWAY_PHONE_FORMAT: 'e164' });
  try {
    await e164.airtime({ phone: '0712345678', amountMinor: 10000, telco: 'SAFARICOM', initiatorPhone: '0722000111' }, opts('e1'));
    assert.deepEqual([last().body.phone, last().body.initiatorPhone], ['+254712345678', '+254722000111']);
    assert.equal(last().body.signature, hmac(`100+254712345678SAFARICOM+254722000111${MERCHANT}`));
    await e164.checkout({ phone: '0712345678', amountMinor: 10000, channel: 'MPESA' }, opts('e2'));
    assert.equal(last().body.phoneNumber, '+254712345678');
    await e164.bulkSms({ phones: ['0712345678', '0733000222'], message: 'x' }, opts('e3'));
    assert.equal(last().body.phone, '+254712345678,+254733000222');
  } finally {
    await e164.close();
  }
});

test('airtime FAIBA_B carries productCode (not signed); offline_mode is not signed', async () => {
  await gw.airtime(
    { phone: '0747000111', amountMinor: 5000, telco: 'FAIBA_B', initiatorPhone: '0747000111', productCode: 'DailyData1GB' },
    { reference: 'f1', offlineMode: true },
  );
  const b = last().body;
  assert.equal(b.productCode, 'DailyData1GB');
  assert.equal(b.offline_mode, true);
  assert.equal(b.signature, hmac(`500747000111FAIBA_B0747000111${MERCHANT}`));
});

test('pinAirtime: same order as airtime on its own path', async () => {
  await gw.pinAirtime({ phone: '254733000222', amountMinor: 10000, telco: 'AIRTEL', initiatorPhone: '+254712345678' }, opts('p1'));
  assert.equal(last().path, '/billing/v1/pin-airtime/create');
  assert.equal(last().body.phone, '0733000222');
  assert.equal(last().body.signature, hmac(`1000733000222AIRTEL0712345678${MERCHANT}`));
});

test('bill: amount + account + telco + initiatorPhone(07) + MerchantID; Kenya Power code from config', async () => {
  await gw.payBill({ biller: 'KPLC_PREPAID', account: '14234567890', amountMinor: 200000, initiatorPhone: '+254712345678' }, opts('b1'));
  const b = last().body;
  assert.equal(last().path, '/billing/v1/bill/create');
  assert.equal(b.telco, 'KPLC_PRE_TEST');
  assert.equal(b.initiatorPhone, '0712345678');
  assert.equal(b.signature, hmac(`200014234567890KPLC_PRE_TEST0712345678${MERCHANT}`));
  await gw.payBill({ biller: 'DSTV', account: '7012345', amountMinor: 150000, initiatorPhone: '0712345678' }, opts('b2'));
  assert.equal(last().body.signature, hmac(`15007012345DSTV0712345678${MERCHANT}`));
});

test('checkout: amount + phoneNumber(07) + channel + MerchantID; metadata kept and reference added', async () => {
  const r = await gw.checkout({ phone: '+254712345678', amountMinor: 150000, channel: 'MPESA', metadata: { reason: 'Invoice #1234' } }, opts('c1'));
  assert.equal(r.kind, 'succeeded');
  const b = last().body;
  assert.equal(last().path, '/billing/v1/checkout/create');
  assert.equal(b.phoneNumber, '0712345678');
  assert.deepEqual(b.metadata, { reason: 'Invoice #1234', reference: 'c1' });
  assert.equal(b.signature, hmac(`15000712345678MPESA${MERCHANT}`));
});

test('mobilePayout: amount + destinationPhone(07) + initiatorName + initiatorCountry + channel + MerchantID', async () => {
  await gw.mobilePayout({ phone: '+254715330000', amountMinor: 150000, channel: 'MPESA', initiatorName: 'John Doe', initiatorCountry: 'Germany' }, opts('m1'));
  const b = last().body;
  assert.equal(last().path, '/billing/v3/mobile-payout/create');
  assert.deepEqual(b.source, { initiatorName: 'John Doe', initiatorCountry: 'Germany' });
  assert.deepEqual(b.destination, { destinationPhone: '0715330000', amount: '1500', channel: 'MPESA' });
  // The documented worked string: "15000715330000John DoeGermanyMPESAkyanda".
  assert.equal(b.signature, hmac(`15000715330000John DoeGermanyMPESA${MERCHANT}`));
});

test('initiatorCountry goes out as a country name like the documents\' "Kenya"/"Germany": an ISO code is converted', async () => {
  await gw.mobilePayout({ phone: '0715330000', amountMinor: 150000, channel: 'MPESA', initiatorName: 'Kemru Pay', initiatorCountry: 'KE' }, opts('m2'));
  assert.equal(last().body.source.initiatorCountry, 'Kenya');
  assert.equal(last().body.signature, hmac(`15000715330000Kemru PayKenyaMPESA${MERCHANT}`));
  await gw.bankPayout(
    {
      name: 'Harry Kessy',
      accountNumber: '2042581154',
      phone: '0715330000',
      bankCode: '101',
      amountMinor: 150000,
      initiatorName: 'John Doe',
      initiatorCountry: 'de',
    },
    opts('k2'),
  );
  assert.equal(last().body.source.initiatorCountry, 'Germany');
});

test('bankPayout: amount + accountNumber + phoneNumber(07) + bankCode + initiatorName + initiatorCountry + MerchantID', async () => {
  await gw.bankPayout(
    {
      name: 'Harry Kessy',
      accountNumber: '2042581154',
      phone: '+254715330000',
      bankCode: '101',
      amountMinor: 150000,
      initiatorName: 'John Doe',
      initiatorCountry: 'Germany',
    },
    opts('k1'),
  );
  const b = last().body;
  assert.equal(last().path, '/billing/v3/bank-payout/create');
  assert.equal(b.destination.phoneNumber, '0715330000');
  assert.equal(b.destination.name, 'Harry Kessy');
  assert.equal(b.signature, hmac(`150020425811540715330000101John DoeGermany${MERCHANT}`));
});

test('b2b: MerchantID + channel + shortCode + identifier (as given: an account, not a phone) + amount; resultUrl sent', async () => {
  await gw.b2b(
    {
      channel: 'BusinessPayBill',
      shortCode: '4079491',
      identifier: '+254739117883',
      amountMinor: 500000,
      remarks: 'Settlement',
      resultUrl: 'https://x.test/cb',
    },
    opts('bb1'),
  );
  const b = last().body;
  assert.equal(last().path, '/billing/v3/b2b/create');
  assert.equal(b.resultUrl, 'https://x.test/cb');
  assert.equal(b.destination.identifier, '+254739117883');
  assert.equal(b.signature, hmac(`${MERCHANT}BusinessPayBill4079491+2547391178835000`));
  await gw.b2b(
    { channel: 'BusinessPayBill', shortCode: '4079491', identifier: 'INV-2024-77', amountMinor: 500000, remarks: 'Settlement', resultUrl: 'https://x.test/cb' },
    opts('bb2'),
  );
  assert.equal(last().body.destination.identifier, 'INV-2024-77');
});

test('upiTransfer (ASSUMED order): MerchantID + sender.account + sender.channel + recipient.account + recipient.channel + amount', async () => {
  await gw.upiTransfer!(
    {
      senderAccount: 'S-1',
      senderChannel: 101,
      recipientAccount: 'R-9',
      recipientChannel: 301,
      amountMinor: 250000,
      senderCurrency: 'KES',
      recipientCurrency: 'KES',
      narration: 'loan',
    },
    opts('u1'),
  );
  const b = last().body;
  assert.equal(last().path, '/v1/transaction/transact-link');
  assert.deepEqual(b.sender, { account: 'S-1', channel: '101', currency: 'KES' });
  assert.equal(b.signature, hmac(`${MERCHANT}S-1101R-93012500`));
});

test('sms: phone(07) + otp + MerchantID; a missing otp concatenates as ""', async () => {
  await gw.sendSms({ phone: '+254712345678', message: '', otp: '4823' }, opts('s1'));
  assert.equal(last().path, '/billing/v1/sms/send');
  assert.equal(last().body.phone, '0712345678');
  assert.equal(last().body.signature, hmac(`07123456784823${MERCHANT}`));
  await gw.sendSms({ phone: '0712345678', message: 'Your order is on its way' }, opts('s2'));
  assert.equal(last().body.message, 'Your order is on its way');
  assert.equal(last().body.otp, undefined);
  assert.equal(last().body.signature, hmac(`0712345678${MERCHANT}`));
});

test('bulkSms: the documented /billing/v1/sms/send, numbers joined by "," in `phone`, signed phone + otp("") + MerchantID', async () => {
  await gw.bulkSms({ phones: ['+254712345678', '254733000222'], message: 'Hello' }, opts('bulk1'));
  assert.equal(last().path, '/billing/v1/sms/send');
  assert.equal(last().body.phone, '0712345678,0733000222');
  assert.equal(last().body.message, 'Hello');
  assert.equal(last().body.phones, undefined);
  assert.equal(last().body.signature, hmac(`0712345678,0733000222${MERCHANT}`));
});

test('registerCallback: MerchantID only (as documented)', async () => {
  const r = await gw.registerCallback('https://merchant.test/callbacks/kyanda');
  assert.equal(r.kind, 'succeeded');
  assert.equal(last().path, '/billing/v1/callback-url/create');
  assert.equal(last().body.callbackURL, 'https://merchant.test/callbacks/kyanda');
  assert.equal(last().body.signature, hmac(MERCHANT));
});

test('telcoCheck (wire choice): MerchantID + prefix, the sample body\'s order; "0722" becomes "722"', async () => {
  assert.deepEqual(await gw.telcoCheck('0722'), { telco: 'SAFARICOM' });
  assert.equal(last().path, '/api-telco-check');
  assert.equal(last().body.prefix, '722');
  assert.equal(last().body.signature, hmac(`${MERCHANT}722`));
  assert.equal(await gw.telcoCheck('7a'), null);
});

test('input the gateway would refuse is rejected before sending, with the documented code', async () => {
  const before = peer.seen.length;
  const code = async (p: Promise<{ kind: string; error?: { code: string } }>) => {
    const r = await p;
    assert.equal(r.kind, 'failed');
    return r.error!.code;
  };
  assert.equal(await code(gw.airtime({ phone: '0712345678', amountMinor: 150050, telco: 'SAFARICOM', initiatorPhone: '0712345678' }, opts('x1'))), '9003');
  assert.equal(await code(gw.airtime({ phone: '12345', amountMinor: 10000, telco: 'SAFARICOM', initiatorPhone: '0712345678' }, opts('x2'))), '9001');
  assert.equal(await code(gw.airtime({ phone: '0747000111', amountMinor: 5000, telco: 'FAIBA_B', initiatorPhone: '0712345678' }, opts('x3'))), '1108');
  assert.equal(await code(gw.pinAirtime({ phone: '0712345678', amountMinor: 5000, telco: 'EQUITEL', initiatorPhone: '0712345678' }, opts('x4'))), '9002');
  assert.equal(await code(gw.checkout({ phone: '0712', amountMinor: 10000, channel: 'MPESA' }, opts('x5'))), '8002');
  assert.equal(await code(gw.payBill({ biller: 'GOTV', account: '1', amountMinor: 0, initiatorPhone: '0712345678' }, opts('x6'))), '8004');
  assert.equal(
    await code(
      gw.bankPayout(
        { name: 'A B', accountNumber: '1', phone: '0712345678', bankCode: '999', amountMinor: 10000, initiatorName: 'A', initiatorCountry: 'Kenya' },
        opts('x7'),
      ),
    ),
    '1201',
  );
  assert.equal(
    await code(gw.b2b({ channel: 'BusinessBuyGoods', shortCode: '1', identifier: '0712345678', amountMinor: 10000, remarks: '', resultUrl: '' }, opts('x8'))),
    '1108',
  );
  assert.equal(
    await code(
      gw.upiTransfer!(
        {
          senderAccount: 'a',
          senderChannel: 401,
          recipientAccount: 'b',
          recipientChannel: 201,
          amountMinor: 100,
          senderCurrency: 'KES',
          recipientCurrency: 'KES',
        },
        opts('x9'),
      ),
    ),
    '8003',
  );
  assert.equal(await code(gw.sendSms({ phone: '0712345678', message: '' }, opts('x11'))), '1108');
  assert.equal(await code(gw.sendSms({ phone: '07123', message: 'hi' }, opts('x12'))), '8002');
  const many = Array.from({ length: 1001 }, (_, i) => `07${String(10000000 + i)}`);
  assert.equal(await code(gw.bulkSms({ phones: many, message: 'hi' }, opts('x10'))), '1109');
  assert.equal(await code(gw.bulkSms({ phones: ['0712345678', '0712', '0733000222'], message: 'hi' }, opts('x13'))), '8002');
  assert.equal(await code(gw.bulkSms({ phones: ['0712345678,0733000222'], message: 'hi' }, opts('x14'))), '8002');
  assert.equal(
    await code(gw.mobilePayout({ phone: '0712345678', amountMinor: 10000, channel: 'MPESA', initiatorName: 'A', initiatorCountry: ' ' }, opts('x15'))),
    '1108',
  );
  assert.equal(await code(gw.registerCallback('ftp://nope')), '6002');
  assert.equal(peer.seen.length, before, 'nothing was sent');
});

test('exactly 1,000 bulk recipients are sent', async () => {
  const phones = Array.from({ length: 1000 }, (_, i) => `+2547${String(10000000 + i)}`);
  const r = await gw.bulkSms({ phones, message: 'hi' }, opts('bulk-1000'));
  assert.equal(r.kind, 'succeeded');
  const sent = String(last().body.phone).split(',');
  assert.equal(sent.length, 1000);
  assert.equal(sent[0], '0710000000');
  assert.equal(last().body.signature, hmac(`${sent.join(',')}${MERCHANT}`));
});
