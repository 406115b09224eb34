// Agent PINs and OTP codes typed in a session never sit in plain text in Redis for the
// session's life: the record keeps a mark of the cumulative text (never the text, which carries
// every PIN), and a PIN or code is dropped from the session as soon as its action has checked it.
// That holds for the SMS codes typed in the agent activation and PIN reset flows too: after the
// session, the code is nowhere in Redis in plain text.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { start, smsLog, waitSms, type Svc } from './support.js';
import { Phone } from '../support/ussd.js';

let s: Svc;
before(async () => {
  s = await start();
});
after(() => s.svc.close());

async function record(sessionId: string): Promise<string> {
  const prefix = s.svc.app.config.REDIS_PREFIX;
  const keys = await s.svc.app.redis.keys(`${prefix}*`);
  const dump: string[] = [];
  for (const k of keys) {
    if (!k.includes(sessionId) && !k.includes(':resume:')) continue;
    const type = await s.svc.app.redis.type(k);
    if (type === 'hash') dump.push(JSON.stringify(await s.svc.app.redis.hgetall(k)));
    else if (type === 'string') dump.push((await s.svc.app.redis.get(k)) ?? '');
  }
  return dump.join('\n');
}

test('a wrong agent PIN is checked and then gone from the session record; the record keeps no text', async () => {
  await s.agents.add('+254722800001');
  await s.agents.setPin('+254722800001', '2468');
  const phone = new Phone(s.url, '+254722800001');
  await phone.dial();
  await phone.walk('4');
  assert.match(await phone.send('9137'), /Wrong PIN, 2 tries left/);
  const rec = await record(phone.sessionId);
  assert.ok(rec.length > 0);
  assert.doesNotMatch(rec, /9137/, 'the wrong PIN is not kept');
  assert.doesNotMatch(rec, /"t":"4\*/, 'the cumulative text is not kept');
  assert.match(rec, /"t":"~\d+:/, 'only its mark');
  assert.match(await phone.send('2468'), /^END Float: KES/);
  assert.doesNotMatch(await record(phone.sessionId), /2468|9137/);
});

test('a PIN change leaves none of the three PINs in Redis after END', async () => {
  await s.agents.add('+254722800002');
  await s.agents.setPin('+254722800002', '1234');
  const phone = new Phone(s.url, '+254722800002');
  await phone.dial();
  const end = await phone.walk('6', '2', '5', '1234', '7391', '7391');
  assert.match(end, /^END Your agent PIN has been changed/);
  assert.doesNotMatch(await record(phone.sessionId), /1234|7391/);
});

/** Every value under the service's Redis prefix, as text (strings, hashes, lists, sets, zsets). */
async function everything(): Promise<string> {
  const r = s.svc.app.redis;
  const out: string[] = [];
  for (const k of await r.keys(`${s.svc.app.config.REDIS_PREFIX}*`)) {
    const type = await r.type(k);
    if (type === 'string') out.push((await r.get(k)) ?? '');
    else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(k)));
    else if (type === 'list') out.push(JSON.stringify(await r.lrange(k, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await r.smembers(k)));
    else if (type === 'zset') out.push(JSON.stringify(await r.zrange(k, '0', '-1')));
    else if (type === 'stream') out.push(JSON.stringify(await r.xrange(k, '-', '+')));
  }
  return out.join('\n');
}

/** The newest verification code SMS to `msisdn` sent after `since`. */
async function codeFor(msisdn: string, since: number): Promise<string> {
  await waitSms(s, msisdn, /verification code is \d+/);
  const last = (await smsLog(s)).filter((m) => m.recipients.includes(msisdn) && Date.parse(m.at) >= since && /verification code/.test(m.message)).at(-1)!;
  return /code is (\d+)/.exec(last.message)![1]!;
}

const digitsRun = (code: string) => new RegExp(`(^|\\D)${code}(\\D|$)`);

test('the SMS code typed to activate an agent account is not in Redis once the session ends', async () => {
  await s.agents.add('+254722800003');
  const phone = new Phone(s.url, '+254722800003');
  await phone.dial();
  const t = Date.now() - 5;
  assert.match(await phone.walk('6', '2', '4'), /^CON Enter the code we sent by SMS/);
  const code = await codeFor('+254722800003', t);
  assert.match(await phone.send(code), /^CON Choose a 4-digit agent PIN/);
  await phone.send('5824');
  assert.match(await phone.send('5824'), /^END Your agent account is active/);
  assert.doesNotMatch(await record(phone.sessionId), digitsRun(code), 'not in the session record');
  assert.doesNotMatch(await record(phone.sessionId), /5824/);
  assert.doesNotMatch(await everything(), digitsRun(code), 'nowhere in Redis in plain text');
});

test('PIN reset by SMS code: neither the wrong code nor the right one is in Redis once the session ends', async () => {
  await s.agents.add('+254722800004');
  await s.agents.setPin('+254722800004', '1470');
  const phone = new Phone(s.url, '+254722800004');
  await phone.dial();
  const t = Date.now() - 5;
  assert.match(await phone.walk('6', '2', '6'), /^CON Enter the code we sent by SMS/);
  const code = await codeFor('+254722800004', t);
  const wrong = code === '918273' ? '918274' : '918273';
  await phone.walk(wrong, '3692');
  assert.match(await phone.send('3692'), /^CON Wrong code, \d+ tries left/);
  assert.doesNotMatch(await record(phone.sessionId), /918273|918274/, 'the wrong code is not kept');
  assert.match(await phone.send(code), /^END Your agent PIN has been reset/);
  const rec = await record(phone.sessionId);
  assert.doesNotMatch(rec, digitsRun(code));
  assert.doesNotMatch(rec, /3692|1470/);
  const all = await everything();
  assert.doesNotMatch(all, digitsRun(code), 'nowhere in Redis in plain text');
  assert.doesNotMatch(all, digitsRun(wrong));
});
