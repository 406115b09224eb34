// What the engine guarantees on every channel, over HTTP with the real Redis: sessions bound to
// their phone, keyed per channel, order identity from the session instance (never the
// aggregator's reused id), repeats that advance nothing where the wire gives us nothing to
// tell them by, countries, and money for Kenyan numbers only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestService } from '../support/service.js';

const WINDOW = 250;
const svc = await startTestService({ PHONE_COUNTRIES: 'KE,GH,TZ', RESUME_WINDOW_S: '0', USSD_REPEAT_WINDOW_MS: String(WINDOW) }, { workers: false });
after(() => svc.close());
const prefix = svc.app.config.REDIS_PREFIX;

const MAIN = /^Welcome to Kemru Pay\n1 Buy airtime/;
const FOREIGN = 'This session is not available. Please dial again.\nKipindi hiki hakipatikani. Tafadhali piga tena.';
const pause = (ms = WINDOW + 60) => new Promise((r) => setTimeout(r, ms));

async function json(path: string, body: unknown, url = svc.url): Promise<Record<string, unknown>> {
  const r = await fetch(new URL(path, url), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as Record<string, unknown>;
}
const hubtel = (o: { sid: string; mobile: string; type: string; msg: string; seq: number }) =>
  json('/ussd/hubtel', { Type: o.type, Mobile: o.mobile, SessionId: o.sid, ServiceCode: '860*30', Message: o.msg, Sequence: o.seq, Operator: 'vodafone' }).then(
    (r) => r.Message as string,
  );
const arkesel = (sid: string, msisdn: string, newSession: boolean, userData: string) =>
  json('/ussd/arkesel', { sessionID: sid, userID: 'T', newSession, msisdn, userData, network: 'MTN' }).then((r) => r.message as string);
const beem = (sid: string, msisdn: string, command: string, requestId: number, response: string | number) =>
  json('/ussd/beem', { command, msisdn, session_id: sid, operator: 'vodacom', payload: { request_id: requestId, response } }).then(
    (r) => (r.payload as { request: string }).request,
  );

/** The airtime action as the engine calls it: its idempotency keys and phones, optionally slow. */
const calls: { key: string; phone: string }[] = [];
let airtimeDelay = 0;
svc.app.actions.register(
  'airtime',
  async (ctx) => {
    calls.push({ key: ctx.idempotencyKey, phone: ctx.phone });
    if (airtimeDelay) await new Promise((r) => setTimeout(r, airtimeDelay));
    return { outcome: 'success', vars: { ref: 'R1' } };
  },
  { commitsItself: false },
);

test("a Hubtel request naming another phone's session ends politely and changes nothing", async () => {
  const sid = `hub-${randomUUID()}`;
  const owner = '233200585542';
  assert.match(await hubtel({ sid, mobile: owner, type: 'Initiation', msg: '*860*30#', seq: 1 }), MAIN);
  assert.match(await hubtel({ sid, mobile: owner, type: 'Response', msg: '1', seq: 2 }), /^Buy airtime for:/);
  const key = `${prefix}sess:hubtel:${sid}`;
  const before = await svc.app.redis.hgetall(key);
  const stranger = '233271234567';
  // A continue, a fresh start and an end from another phone: each refused, none touches the record.
  assert.equal(await hubtel({ sid, mobile: stranger, type: 'Response', msg: '2', seq: 3 }), FOREIGN);
  assert.equal(await hubtel({ sid, mobile: stranger, type: 'Initiation', msg: '*860*30#', seq: 1 }), FOREIGN);
  assert.equal(await hubtel({ sid, mobile: stranger, type: 'Release', msg: '', seq: 4 }), '');
  assert.deepEqual(await svc.app.redis.hgetall(key), before);
  // The owner carries on where they were.
  assert.equal(await hubtel({ sid, mobile: owner, type: 'Response', msg: '2', seq: 3 }), 'Enter phone number:');
});

test('the same session id on two aggregators is two sessions', async () => {
  const id = `dup-${randomUUID()}`;
  const phone = '254712000301';
  assert.match(await hubtel({ sid: id, mobile: phone, type: 'Initiation', msg: '*860*30#', seq: 1 }), MAIN);
  assert.match(await hubtel({ sid: id, mobile: phone, type: 'Response', msg: '1', seq: 2 }), /^Buy airtime for:/);
  assert.match(await arkesel(id, phone, true, '*860*30#'), MAIN);
  await pause();
  assert.match(await arkesel(id, phone, false, '3'), /^Pay bill to:/);
  assert.equal(await hubtel({ sid: id, mobile: phone, type: 'Response', msg: '2', seq: 3 }), 'Enter phone number:');
  // An Africa's Talking id that looks like another channel's key lives apart from it too.
  const r = await fetch(new URL('/ussd', svc.url), {
    method: 'POST',
    body: new URLSearchParams({ sessionId: `hubtel:${id}`, serviceCode: '*860*30#', phoneNumber: `+${phone}`, text: '' }),
  });
  assert.match(await r.text(), /^CON Welcome/);
  const keys = (await svc.app.redis.keys(`${prefix}sess:*${id}`)).map((k) => k.slice(prefix.length)).sort();
  assert.deepEqual(keys, [`sess:arkesel:${id}`, `sess:at:hubtel:${id}`, `sess:hubtel:${id}`]);
});

test('a Beem session id reused after its session ended gets new idempotency keys (order identity from the session instance)', async () => {
  const sid = String(Math.floor(Math.random() * 1e6));
  const phone = '254712000302';
  const walk = async () => {
    assert.match(await beem(sid, phone, 'initiate', 0, 0), MAIN);
    assert.match(await beem(sid, phone, 'continue', 1, '1'), /^Buy airtime for:/);
    assert.equal(await beem(sid, phone, 'continue', 2, '1'), 'Enter amount (KES 10 - 10,000):');
    assert.match(await beem(sid, phone, 'continue', 3, '50'), /^Buy airtime KES 50 for 0712000302\?/);
    assert.match(await beem(sid, phone, 'continue', 4, '1'), /^You will receive an M-PESA prompt to pay KES 50\./);
    return calls.at(-1)!;
  };
  const first = await walk();
  const second = await walk();
  assert.equal(first.phone, '+254712000302');
  assert.notEqual(second.key, first.key);
  assert.equal(second.key.split(':')[1], first.key.split(':')[1]); // the same step of the menu
  for (const k of [first.key, second.key]) assert.ok(!k.includes(sid), k);
});

test('Arkesel: duplicates that arrive while an answer is being answered, or right after its reply, get that reply; the action runs once', async () => {
  const sid = `ark-${randomUUID()}`;
  const phone = '254712000303';
  assert.match(await arkesel(sid, phone, true, '*860*30*1*1#'), /^Enter amount/);
  await pause();
  assert.match(await arkesel(sid, phone, false, '70'), /^Buy airtime KES 70 for 0712000303\?/);
  await pause();
  airtimeDelay = 150;
  const before = calls.length;
  try {
    // The aggregator sends the confirming "1" again and again: during the action, and just after.
    const during = await Promise.all(Array.from({ length: 5 }, () => arkesel(sid, phone, false, '1')));
    const right = await arkesel(sid, phone, false, '1');
    for (const r of [...during, right]) assert.match(r, /^You will receive an M-PESA prompt to pay KES 70\./);
    assert.equal(calls.length, before + 1);
  } finally {
    airtimeDelay = 0;
  }
  await pause();
  assert.equal(await arkesel(sid, phone, false, '1'), 'This session has ended. Please dial again.');
});

test('Arkesel: a "1" repeated right after the reply to a "1" is not taken as Confirm on the next screen', async () => {
  // bundle_for "1 My number" leads straight to a confirmation whose "1" buys: the duplicate must not.
  const sid = `ark-${randomUUID()}`;
  const phone = '254712000304';
  let bought = 0;
  svc.app.actions.register('bundle', async () => {
    bought++;
    return { outcome: 'success' };
  });
  assert.match(await arkesel(sid, phone, true, '*860*30*2*1#'), /^100MB 1 day for:/);
  await pause();
  const confirm = await arkesel(sid, phone, false, '1');
  assert.match(confirm, /^Buy 100MB 1 day for KES 10 for 0712000304\?\n1 Confirm/);
  assert.equal(await arkesel(sid, phone, false, '1'), confirm); // the duplicate, at once
  assert.equal(bought, 0);
  await pause();
  assert.match(await arkesel(sid, phone, false, '1'), /^You will receive an M-PESA prompt/); // the subscriber's own "1"
  assert.equal(bought, 1);
});

test('a number from a country PHONE_COUNTRIES leaves out gets a polite END and no record', async () => {
  const ke = await startTestService({}, { workers: false });
  try {
    const sid = `hub-${randomUUID()}`;
    const r = await json(
      '/ussd/hubtel',
      { Type: 'Initiation', Mobile: '233200585542', SessionId: sid, ServiceCode: '860*30', Message: '*860*30#', Sequence: 1 },
      ke.url,
    );
    assert.equal(r.Type, 'Release');
    assert.equal(r.Message, 'Sorry, this service is not available for numbers from your country.\nSamahani, huduma hii haipatikani kwa nambari za nchi yako.');
    assert.equal(await ke.app.redis.exists(`${ke.app.config.REDIS_PREFIX}sess:hubtel:${sid}`), 0);
    assert.match(await ke.app.metrics.render(), /ussd_hops_total\{channel="hubtel",outcome="country"\} 1/);
  } finally {
    await ke.close();
  }
});

test('money moves for Kenyan numbers only: a Ghanaian subscriber reaching a purchase is told so, and nothing is ordered', async () => {
  // The real payments actions (a separate service: this file replaced airtime and bundle).
  const pay = await startTestService({ PHONE_COUNTRIES: 'KE,GH' }, { workers: false });
  try {
    const p = pay.app.config.REDIS_PREFIX;
    const orders = async () => (await pay.app.redis.keys(`${p}order:*`)).length;
    const buy = async (sid: string, mobile: string) => {
      const h = (type: string, msg: string, seq: number) =>
        json('/ussd/hubtel', { Type: type, Mobile: mobile, SessionId: sid, ServiceCode: '860*30', Message: msg, Sequence: seq }, pay.url);
      await h('Initiation', '*860*30*2*1*1#', 1); // 100MB bundle for my number: the confirmation
      return h('Response', '1', 2);
    };
    const gh = await buy(`gh-${randomUUID()}`, '233200585542');
    assert.equal(gh.Type, 'Release');
    assert.equal(gh.Message, 'Sorry, your request could not be completed. This service is only for Kenyan (+254) numbers.');
    assert.equal(await orders(), 0);
    assert.match(await pay.app.metrics.render(), /ussd_action_refused_total\{action="bundle",reason="country"\} 1/);
    const ledger = (await (await fetch(new URL('/sandbox/_ledger', pay.url))).json()) as unknown[];
    assert.equal(ledger.length, 0);
    // The same purchase from a Kenyan number creates its order: the guard is what stopped the other.
    const ke = await buy(`ke-${randomUUID()}`, '254712000305');
    assert.match(String(ke.Message), /^You will receive an M-PESA prompt to pay KES 10\./);
    assert.ok((await orders()) >= 1);
  } finally {
    await pay.close();
  }
});
