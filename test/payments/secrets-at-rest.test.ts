// Agent PINs and OTP codes typed in a session never sit in plain text in Redis for the
// session's life: the record keeps a mark of the cumulative text (never the text, which carries
// every PIN), and a PIN or code is dropped from the session as soon as its action has checked it.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { start, Phone, type Svc } from './support.js';

let s: Svc;
before(async () => { s = await start(); });
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
