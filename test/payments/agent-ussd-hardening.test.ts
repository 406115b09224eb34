// Agent screens (issue 16, item 8): whole shillings at the amount entry of a float sale, an
// accurate message for a registered agent who has not activated, and a PIN-change session whose
// cumulative text (PINs included) leaves Redis soon after END.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, waitSms, smsLog } from './support.js';
import { Phone } from '../support/ussd.js';

const s = await start();
after(() => s.svc.close());
const AUTH = { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json' };
const register = async (phone: string) => (await fetch(`${s.url}/api/agents`, { method: 'POST', headers: AUTH, body: JSON.stringify({ phone }) })).status;
const dial = async (msisdn: string) => {
  const p = new Phone(s.url, msisdn);
  await p.dial();
  return p;
};

async function activate(msisdn: string, pin: string): Promise<void> {
  const phone = await dial(msisdn);
  const t = Date.now() - 5;
  assert.match(await phone.walk('6', '2', '4'), /^CON Enter the code we sent by SMS/);
  await waitSms(s, msisdn, /verification code is \d+/);
  const sms = (await smsLog(s)).filter((x) => x.recipients.includes(msisdn) && Date.parse(x.at) >= t && /verification code/.test(x.message));
  const code = /code is (\d+)/.exec(sms.at(-1)!.message)![1]!;
  await phone.walk(code, pin);
  assert.match(await phone.send(pin), /^END Your agent account is active/);
}

test('float sales take whole shillings only: KES 10.50 is refused at the amount screen, before any PIN prompt', async () => {
  const airtime = await dial('+254722200001');
  await airtime.walk('6', '2', '1', '0712200001');
  const again = await airtime.send('10.50');
  assert.match(again, /^CON Enter whole shillings, no cents, e\.g\. 100\./);
  assert.doesNotMatch(again, /PIN/);
  assert.match(await airtime.send('10'), /^CON Sell KES 10 airtime to 0712200001\. Enter agent PIN:/);
  const bill = await dial('+254722200011'); // another phone: the first session is still open (and would be offered for resuming)
  await bill.walk('6', '2', '3', '1', '12345678901');
  assert.match(await bill.send('2000.5'), /^CON Enter whole shillings/);
  assert.match(await bill.send('2,000'), /Enter agent PIN/);
});

test('every amount screen of the default menu takes whole shillings: airtime, bill and merchant refuse cents before the confirm', async () => {
  const hint = /^CON Enter whole shillings, no cents, e\.g\. 100\./;
  const airtime = await dial('+254722200021');
  await airtime.walk('1', '1');
  assert.match(await airtime.send('99.99'), hint);
  assert.match(await airtime.send('99'), /^CON Buy airtime KES 99 for/);
  const bill = await dial('+254722200022');
  await bill.walk('3', '1', '12345678901');
  assert.match(await bill.send('500.25'), hint);
  const merchant = await dial('+254722200023');
  await merchant.walk('5', 'SHOP123');
  assert.match(await merchant.send('1,000.10'), hint);
  assert.match(await merchant.send('1,000'), /^CON Pay KES 1000 to merchant SHOP123\?/);
});

test('a registered agent who has not activated is told to activate, not that the service is for registered agents', async () => {
  assert.equal(await register('0722200002'), 201);
  const notActive = /^END Your agent account is not active yet\. Choose Activate agent account first\./;
  assert.match(await (await dial('+254722200002')).walk('6', '2', '1', '0712200002', '100', '1111'), notActive);
  assert.match(await (await dial('+254722200002')).walk('6', '2', '2', '1', '0712200002', '1111'), notActive);
  assert.match(await (await dial('+254722200002')).walk('4', '1111'), notActive);
  assert.match(await (await dial('+254722200002')).walk('6', '2', '5', '1111', '2222', '2222'), notActive);
  // Someone who is not an agent at all still hears that.
  assert.match(await (await dial('+254722200099')).walk('6', '2', '1', '0712200099', '100', '1111'), /^END This service is for registered agents only/);
});

test('after a PIN change ENDs, the record holds none of the PINs (only a mark of the text), and still replays', async () => {
  await register('0722200003');
  await activate('+254722200003', '1234');
  const p = await dial('+254722200003');
  const end = await p.walk('6', '2', '5', '1234', '7391', '7391');
  assert.match(end, /^END Your agent PIN has been changed/);
  const key = s.svc.app.key('sess', p.sessionId);
  const rec = JSON.stringify(await s.svc.app.redis.hgetall(key));
  assert.doesNotMatch(rec, /1234|7391/, 'no PIN in the record');
  assert.match((await s.svc.app.redis.hget(key, 't')) ?? '', /^~\d+:/, 'the text is kept as a mark only');
  // An aggregator retry of the last request gets the same reply.
  assert.equal(await p.req(), end);
});
