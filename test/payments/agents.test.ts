// Agents end to end: registration (API), activation by SMS OTP in the menu, selling from float
// with a PIN (result on the END screen), balance, PIN change/reset, lockout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ledger, orderOf, waitSms, assertInvariants, vendsFor, smsLog } from './support.js';
import { Phone } from '../support/ussd.js';

const s = await start({ AGENT_MAX_PIN_TRIES: '3', AGENT_LOCK_S: '600' });
after(() => s.svc.close());
const AUTH = { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json' };

async function register(phone: string): Promise<number> {
  const r = await fetch(`${s.url}/api/agents`, { method: 'POST', headers: AUTH, body: JSON.stringify({ phone }) });
  return r.status;
}

async function otpFor(phone: string, after: number): Promise<string> {
  const m = await waitSms(s, phone, /verification code is \d+/);
  const all = (await smsLog(s)).filter((x) => x.recipients.includes(phone) && Date.parse(x.at) >= after && /verification code/.test(x.message));
  const last = all.at(-1) ?? m;
  return /code is (\d+)/.exec(last.message)![1]!;
}

async function activate(msisdn: string, pin: string): Promise<void> {
  const phone = new Phone(s.url, msisdn);
  await phone.dial();
  const t = Date.now() - 5;
  const screen = await phone.walk('6', '2', '4');
  assert.match(screen, /^CON Enter the code we sent by SMS/);
  const code = await otpFor(msisdn, t);
  await phone.send(code);
  await phone.send(pin);
  assert.match(await phone.send(pin), /^END Your agent account is active/);
}

test('agents are registered by operators over the API (bearer token), and looked up', async () => {
  assert.equal(await register('0722100001'), 201);
  assert.equal(await register('+254722100001'), 200, 'same phone, any form: already registered');
  assert.equal(await register('12345'), 400);
  assert.equal(
    (await fetch(`${s.url}/api/agents`, { method: 'POST', body: '{"phone":"0722100002"}', headers: { 'content-type': 'application/json' } })).status,
    401,
  );
  const r = await fetch(`${s.url}/api/agents/0722100001`, { headers: AUTH });
  assert.equal(r.status, 200);
  const j = (await r.json()) as { agent: { phone: string; status: string } };
  assert.deepEqual([j.agent.phone, j.agent.status], ['+254722100001', 'registered']);
  assert.equal((await fetch(`${s.url}/api/agents/0722999999`, { headers: AUTH })).status, 404);
});

test('activation by SMS OTP in the menu, then agent services work with the PIN', async () => {
  await register('0722100003');
  await activate('+254722100003', '2468');
  const stored = await s.svc.app.redis.hgetall(s.svc.app.key('agent', '254722100003'));
  assert.equal(stored.status, 'active');
  assert.ok(!JSON.stringify(stored).includes('2468'), 'the PIN is stored hashed');
  // Activating again is refused politely.
  const again = new Phone(s.url, '+254722100003');
  await again.dial();
  assert.match(await again.walk('6', '2', '4'), /^END Your agent account is already active/);
});

test('a wrong OTP asks again with tries left', async () => {
  await register('0722100004');
  const phone = new Phone(s.url, '+254722100004');
  await phone.dial();
  const t = Date.now() - 5;
  await phone.walk('6', '2', '4');
  const code = await otpFor('+254722100004', t);
  const wrong = code === '000000' ? '111111' : '000000';
  await phone.walk(wrong, '1357');
  assert.match(await phone.send('1357'), /^CON Wrong code, \d+ tries left/);
  // After the retry the menu goes straight back to the action with the PIN already chosen.
  assert.match(await phone.send(code), /^END Your agent account is active/);
});

test('sell airtime from float: PIN, vend inside the session, result on the END screen, one vend', async () => {
  await register('0722100005');
  await activate('+254722100005', '1357');
  const phone = new Phone(s.url, '+254722100005');
  await phone.dial();
  const end = await phone.walk('6', '2', '1', '0712100005', '150', '1357');
  assert.match(end, /^END Sent KES 150 airtime to .*0712100005.* Ref K[0-9A-Z]{15}/);
  const o = await orderOf(s, phone.sessionId);
  assert.equal(o.pay, 'float');
  assert.equal(o.state, 'fulfilled');
  const l = await ledger(s);
  assert.equal(vendsFor(l, o.id).length, 1);
  assert.equal(l.filter((e) => e.endpoint === 'checkout' && e.reference?.startsWith(o.id)).length, 0, 'no checkout for float');
  await waitSms(s, '+254722100005', 'Success');
  await assertInvariants(s);
});

test('pay a KPLC prepaid bill from float: token on the screen', async () => {
  await register('0722100006');
  await activate('+254722100006', '8642');
  const phone = new Phone(s.url, '+254722100006');
  await phone.dial();
  const end = await phone.walk('6', '2', '3', '1', '12345678902', '1000', '8642');
  assert.match(end, /^END Paid KES 1,?000 to KPLC Prepaid 12345678902\. Ref K[0-9A-Z]{15} \d{4}-\d{4}-\d{4}-\d{4}-\d{4}/);
  await assertInvariants(s);
});

test('sell a bundle from float', async () => {
  await register('0722100007');
  await activate('+254722100007', '9753');
  const phone = new Phone(s.url, '+254722100007');
  await phone.dial();
  const end = await phone.walk('6', '2', '2', '1', '0712100007', '9753');
  assert.match(end, /^END Sent 100MB 1 day to .*0712100007/);
  const o = await orderOf(s, phone.sessionId);
  const vend = vendsFor(await ledger(s), o.id)[0]!;
  assert.equal(vend.body.productCode, 'DAILY_DATA_100MB');
  await assertInvariants(s);
});

test('balance for agents after PIN; non-agents are told it is for agents', async () => {
  await register('0722100008');
  await activate('+254722100008', '1111');
  const phone = new Phone(s.url, '+254722100008');
  await phone.dial();
  assert.match(await phone.walk('4', '1111'), /^END Float: KES [\d,]+\.\d\d\nEarnings: KES [\d,]+\.\d\d/);
  const stranger = new Phone(s.url, '+254722100099');
  await stranger.dial();
  assert.match(await stranger.walk('4', '1111'), /^END This service is for registered agents only/);
  const seller = new Phone(s.url, '+254722100099');
  await seller.dial();
  assert.match(await seller.walk('6', '2', '1', '0712100099', '100', '1111'), /^END This service is for registered agents only/);
});

test('wrong PINs: tries left, then locked with minutes; nothing vended', async () => {
  await register('0722100009');
  await activate('+254722100009', '4321');
  const before = (await ledger(s)).length;
  const phone = new Phone(s.url, '+254722100009');
  await phone.dial();
  assert.match(await phone.walk('6', '2', '1', '0712100009', '100', '0000'), /^CON Wrong PIN, 2 tries left/);
  assert.match(await phone.send('0001'), /^CON Wrong PIN, 1 tries left/);
  assert.match(await phone.send('0002'), /^END Your agent account is locked\. Try again in 10 minutes/);
  const locked = new Phone(s.url, '+254722100009');
  await locked.dial();
  assert.match(await locked.walk('4', '4321'), /^END Your agent account is locked/, 'even the right PIN while locked');
  const l = await ledger(s);
  assert.equal(l.slice(before).filter((e) => ['airtime', 'bill'].includes(e.endpoint)).length, 0);
});

test('PIN change and PIN reset by OTP', async () => {
  await register('0722100010');
  await activate('+254722100010', '1212');
  const ch = new Phone(s.url, '+254722100010');
  await ch.dial();
  assert.match(await ch.walk('6', '2', '5', '1212', '3434', '3434'), /^END Your agent PIN has been changed/);
  const bal = new Phone(s.url, '+254722100010');
  await bal.dial();
  assert.match(await bal.walk('4', '3434'), /^END Float/);
  const reset = new Phone(s.url, '+254722100010');
  await reset.dial();
  const t = Date.now() - 5;
  assert.match(await reset.walk('6', '2', '6'), /^CON Enter the code/);
  const code = await otpFor('+254722100010', t);
  assert.match(await reset.walk(code, '5656', '5656'), /^END Your agent PIN has been reset/);
  const bal2 = new Phone(s.url, '+254722100010');
  await bal2.dial();
  assert.match(await bal2.walk('4', '5656'), /^END Float/);
  // Reset for an agent never activated.
  await register('0722100011');
  const na = new Phone(s.url, '+254722100011');
  await na.dial();
  assert.match(await na.walk('6', '2', '6'), /^END Your agent account is not active yet/);
});

test('a float sale the gateway refuses (1107 insufficient float): failure screen with a safe reason, SMS, nothing vended', async () => {
  await register('0722100012');
  await activate('+254722100012', '6789');
  const r = await fetch(`${s.url}/sandbox/_faults`, {
    method: 'POST',
    body: JSON.stringify({ failNext: { code: '1107', count: 1, path: '/v1/airtime/' } }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 200);
  const phone = new Phone(s.url, '+254722100012');
  await phone.dial();
  const end = await phone.walk('6', '2', '1', '0712100012', '180', '6789');
  assert.match(end, /^END Sorry, your request could not be completed\./);
  assert.doesNotMatch(end, /kyanda|1107|status_code/i);
  const o = await orderOf(s, phone.sessionId);
  assert.equal(o.state, 'failed');
  assert.equal(vendsFor(await ledger(s), o.id).length, 0);
  await waitSms(s, '+254722100012', 'failed');
  await assertInvariants(s);
});
