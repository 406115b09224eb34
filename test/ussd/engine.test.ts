// Engine guarantees over HTTP with real Redis: replay, serialization, several instances,
// cumulative input, back/home/paging, shortcuts, TTL expiry, resume, sizes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestService } from '../support/service.js';
import { Phone, post } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

const prefix = `t${randomUUID().slice(0, 8)}:`;
const svc = await startTestService({ REDIS_PREFIX: prefix, RESUME_WINDOW_S: '60' }, { workers: false });
const twin = await startTestService({ REDIS_PREFIX: prefix, RESUME_WINDOW_S: '60' }, { workers: false });
after(async () => {
  await svc.close();
  await twin.close();
});

let airtimeCalls = 0;
const airtimeKeys: string[] = [];
for (const s of [svc, twin]) {
  s.app.actions.register('airtime', async (ctx) => {
    airtimeCalls++;
    airtimeKeys.push(ctx.idempotencyKey);
    await new Promise((r) => setTimeout(r, 50)); // long enough for duplicates to overlap
    return { outcome: 'success', vars: { ref: 'R1' } };
  });
}

let n = 0;
const num = () => `+2547330${String(++n).padStart(5, '0')}`;

test('a repeated (sessionId, text) gets the stored reply byte for byte and runs nothing again', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '1', '100');
  const before = airtimeCalls;
  const first = await p.send('1');
  assert.match(first, /^END You will receive an M-PESA prompt to pay KES 100\./);
  assert.equal(airtimeCalls, before + 1);
  for (let i = 0; i < 3; i++) {
    const again = await post(svc.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, text: p.text });
    assert.equal(again.body, first);
    assert.equal(again.type, 'text/plain; charset=utf-8');
  }
  assert.equal(airtimeCalls, before + 1);
  // An earlier text of the same session is not the last processed one: it does not rewind.
  const stale = await post(svc.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, text: '' });
  assert.match(stale.body, /^END This session has ended/);
});

test('20 identical requests fired at once advance the session once and all get the same reply', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '1', '250');
  const before = airtimeCalls;
  p.text += '*1';
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => post(i % 2 ? twin.url : svc.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, text: p.text })),
  );
  assert.equal(airtimeCalls, before + 1);
  for (const r of replies) {
    assert.equal(r.status, 200);
    assert.equal(r.body, replies[0]!.body);
  }
  assert.match(replies[0]!.body, /^END You will receive an M-PESA prompt to pay KES 250\./);
  const raw = await svc.app.redis.hget(`${prefix}sess:${p.sessionId}`, 'n');
  assert.equal(raw, '5'); // dial + 4 hops, not 23
});

test('20 concurrent first requests (text "") create one session', async () => {
  const sessionId = `S${randomUUID()}`;
  const phoneNumber = num();
  const replies = await Promise.all(Array.from({ length: 20 }, () => post(svc.url, { sessionId, phoneNumber })));
  for (const r of replies) assert.equal(r.body, replies[0]!.body);
  assert.equal(await svc.app.redis.hget(`${prefix}sess:${sessionId}`, 'n'), '1');
});

test('two service instances sharing one Redis serve one session alternately', async () => {
  const phoneNumber = num();
  const sessionId = `S${randomUUID()}`;
  const texts = ['', '1', '1*2', '1*2*0722000111', '1*2*0722000111*75', '1*2*0722000111*75*1'];
  const bodies: string[] = [];
  for (const [i, text] of texts.entries()) bodies.push((await post(i % 2 ? twin.url : svc.url, { sessionId, phoneNumber, text })).body);
  assert.match(bodies[4]!, /KES 75 for 0722000111\?/);
  assert.match(bodies[5]!, /^END You will receive an M-PESA prompt to pay KES 75\./);
});

test("the one-round-trip hop from this process's last write never overrides a newer record", async () => {
  // svc answers a hop, so the next one is computed from what svc wrote. Meanwhile the record
  // changes behind its back: (a) the twin answers a hop; (b) a writer that does not keep the
  // write version (an older release during a deploy) moves the session on. Each time svc must
  // notice and answer from what Redis holds, exactly as a fresh process would.
  const key = (id: string) => `${prefix}sess:${id}`;
  const ref = new Phone(svc.url, num());
  await ref.dial();
  await ref.walk('1', '2');
  const expected = await ref.send('0712000123'); // amount prompt for another number

  const a = new Phone(svc.url, num());
  await a.dial();
  await a.send('1'); // svc wrote this record
  assert.equal((await post(twin.url, { sessionId: a.sessionId, phoneNumber: a.phoneNumber, text: '1*2' })).status, 200);
  a.text = '1*2';
  assert.equal(await a.send('0712000123'), expected);

  const b = new Phone(svc.url, num());
  await b.dial();
  await b.send('1');
  const w = await svc.app.redis.hget(key(b.sessionId), 'w');
  // The state after 1, 2 as a real hop leaves it, from a third session.
  const c = new Phone(svc.url, num());
  await c.dial();
  await c.walk('1', '2');
  const [s2, n2] = await svc.app.redis.hmget(key(c.sessionId), 's', 'n');
  // (The old writer writes b's own state: same phone. It keeps the text itself, not its mark.)
  const own = s2!.replace(JSON.stringify(c.phoneNumber), JSON.stringify(b.phoneNumber));
  await svc.app.redis.hset(key(b.sessionId), { t: '1*2', s: own, n: n2!, r: 'Cstale' });
  assert.equal(await svc.app.redis.hget(key(b.sessionId), 'w'), w, 'the old writer left w alone');
  b.text = '1*2';
  assert.equal(await b.send('0712000123'), expected);
});

test('the input is what was added to text: it may contain * or be empty', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('5');
  // The merchant reference validator rejects "*"; the screen stays and says why.
  assert.match(await p.send('A*B'), /^CON Use 3 to 20 letters or digits\.\nEnter merchant till/);
  assert.match(await p.send(''), /^CON Use 3 to 20 letters or digits\./);
  assert.match(await p.send('SHOP1'), /KES 10 - 150,000/);
  assert.match(await p.send('*'), /^CON Enter the amount in numbers/);
});

test('wrong options re-show the screen with a hint and never end the session', async () => {
  const p = new Phone(svc.url, num());
  const home = await p.dial();
  for (const bad of ['7', 'x', '', '98', '1 2']) {
    const r = await p.send(bad);
    assert.equal(r, home.replace(/^CON /, 'CON Invalid choice, try again.\n'), bad);
  }
  assert.match(await p.send('1'), /^CON Buy airtime for:/);
});

test('0 goes back one screen, 00 goes home, 98/0 page long lists', async () => {
  const p = new Phone(svc.url, num());
  const home = await p.dial();
  await p.walk('1', '2');
  assert.match(await p.send('0'), /^CON Buy airtime for:/);
  assert.equal(await p.send('0'), home);
  assert.equal(await p.send('0'), `CON Invalid choice, try again.\n${home.slice(4)}`);
  await p.walk('2', '98');
  assert.match(await p.send('8'), /225GB 90 days for:/);
  assert.match(await p.send('0'), /^CON Choose a data bundle:\n1 100MB/);
  await p.walk('98');
  assert.match(await p.send('0'), /^CON Choose a data bundle:\n1 100MB/);
  await p.walk('3', '2', '0711000222');
  assert.match(await p.send('00'), /^CON Welcome to Kemru Pay/);
  // Values collected before home are gone: the new path asks again.
  assert.match(await p.walk('1', '2'), /^CON Enter phone number:/);
  // Back from an input screen after a validator failure.
  await p.send('12');
  assert.match(await p.send('0'), /^CON Buy airtime for:/);
});

test('every screen fits in 182 characters and is plain GSM-7', async () => {
  const p = new Phone(svc.url, num());
  const screens = [
    await p.dial(),
    await p.send('2'),
    await p.send('98'),
    await p.send('00'),
    await p.send('3'),
    await p.send('00'),
    await p.send('6'),
    await p.send('2'),
  ];
  for (const s of screens) {
    assert.ok(s.length - 4 <= 182, `${s.length}: ${s}`);
    assert.match(s, /^[\x0a\x20-\x7e]+$/);
  }
});

test('dial-in shortcut *860*30*1*2# pre-fills the inputs', async () => {
  const p = new Phone(svc.url, num());
  assert.match(await p.dial('1*2'), /^CON Enter phone number:$/);
  assert.match(await p.send('0799000111'), /KES 10 - 10,000/);
  const q = new Phone(svc.url, num());
  assert.match(await q.dial('1*1*500'), /^CON Buy airtime KES 500 for 0733/);
  // The code itself may carry the extension (some aggregators send it that way).
  const r = await post(svc.url, { sessionId: `S${randomUUID()}`, phoneNumber: num(), serviceCode: '*860*30*2*98#' });
  assert.match(r.body, /^CON Choose a data bundle:\n6 65GB/);
  // A shortcut stops at the first input the menu rejects and says why.
  const s = new Phone(svc.url, num());
  assert.match(await s.dial('1*2*12345'), /^CON Invalid phone number/);
});

test('an expired session (SESSION_TTL_S) is forgotten', async () => {
  const short = await startTestService({ SESSION_TTL_S: '1', RESUME_WINDOW_S: '0' }, { workers: false });
  try {
    const p = new Phone(short.url, num());
    await p.dial();
    await p.send('2');
    const key = `${short.app.config.REDIS_PREFIX}sess:${p.sessionId}`;
    const ttl = await short.app.redis.ttl(key);
    assert.ok(ttl > 0 && ttl <= 1, `ttl ${ttl}`);
    await waitFor(async () => ((await short.app.redis.exists(key)) === 0 ? true : undefined), 4000);
    // The aggregator carries on with the old session: without a record the text reads as a
    // fresh dial with a shortcut ("2*1" → bundle 1 chosen), never as the stale state.
    assert.match(await p.send('1'), /100MB 1 day for:/);
  } finally {
    await short.close();
  }
});

test('resume: a dropped session is offered again to the same phone (continue / start again)', async () => {
  const phone = num();
  const a = new Phone(svc.url, phone);
  await a.dial();
  await a.walk('1', '2', '0722333444');
  // The telco dropped the session; the subscriber dials again (new sessionId).
  const b = new Phone(svc.url, phone);
  assert.equal(await b.dial(), 'CON You have an unfinished session.\n1 Continue where you left off\n2 Start again');
  assert.match(await b.send('5'), /^CON Invalid choice, try again\.\nYou have an unfinished session/);
  assert.match(await b.send('1'), /^CON Enter amount \(KES 10 - 10,000\):$/);
  assert.match(await b.send('40'), /KES 40 for 0722333444\?/);
  assert.match(await b.send('0'), /^CON Enter amount/);
  // Dropped again; this time start again.
  const c = new Phone(svc.url, phone);
  assert.match(await c.dial(), /unfinished session/);
  assert.match(await c.send('2'), /^CON Welcome to Kemru Pay/);
  assert.match(await c.send('3'), /^CON Pay bill to:/);
  // A session that ENDed is not offered.
  await c.walk('1', '12345678901', '100', '2');
  assert.match(await new Phone(svc.url, phone).dial(), /^CON Welcome to Kemru Pay/);
});

test('resume in Swahili, and a Swahili screen after resuming', async () => {
  const phone = num();
  const a = new Phone(svc.url, phone);
  await a.dial();
  await a.walk('6', '1', '2'); // Kiswahili
  const b = new Phone(svc.url, phone);
  await b.dial();
  await b.walk('3', '2');
  const c = new Phone(svc.url, phone);
  assert.equal(await c.dial(), 'CON Una huduma ambayo haijakamilika.\n1 Endelea ulipoachia\n2 Anza upya');
  assert.match(await c.send('1'), /^CON Weka nambari ya akaunti\/mita ya KPLC Postpaid:$/);
});

test('one session record stays small (after 4 hops)', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '2', '0722000999', '100');
  const key = `${prefix}sess:${p.sessionId}`;
  const fields = await svc.app.redis.hgetall(key);
  const bytes = Object.entries(fields).reduce((a, [k, v]) => a + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const mem = Number(await svc.app.redis.call('MEMORY', 'USAGE', key));
  console.log(`# session record after 4 hops: ${bytes} bytes of fields, MEMORY USAGE ${mem} bytes`);
  assert.ok(bytes < 2048, `${bytes}`);
  assert.ok(mem < 2048, `${mem}`);
  assert.doesNotMatch(JSON.stringify(fields), /0722000999.*pin/);
});

test('the idempotency key is stable per session and step, and differs between steps', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '1', '30', '1');
  const key = airtimeKeys.at(-1)!;
  // The session's instance (unique per record), then the hop: never the aggregator's sessionId.
  assert.match(key, /^[0-9a-z]+[A-Za-z0-9_-]{11}:4$/);
  assert.ok(!key.includes(p.sessionId));
});

test('a sessionId reused after its session expired gets new idempotency keys (no order collision)', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '1', '30', '1');
  const first = airtimeKeys.at(-1)!;
  await svc.app.redis.del(`${prefix}sess:${p.sessionId}`); // expired
  const again = new Phone(svc.url, num(), undefined, p.sessionId);
  await again.dial();
  await again.walk('1', '1', '30', '1');
  const second = airtimeKeys.at(-1)!;
  assert.notEqual(second, first);
  assert.equal(second.split(':')[1], first.split(':')[1]); // same step of the menu
});

test('state is saved before an action runs; a crashed hop re-runs it with the same idempotency key', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '1', '60');
  const key = `${prefix}sess:${p.sessionId}`;
  let during: Record<string, string> | undefined;
  const keys: string[] = [];
  for (const s of [svc, twin]) {
    s.app.actions.register('airtime', async (ctx) => {
      keys.push(ctx.idempotencyKey);
      during ??= await svc.app.redis.hgetall(key);
      return { outcome: 'success', vars: { ref: 'R2' } };
    });
  }
  try {
    const first = await p.send('1');
    assert.match(first, /^END You will receive/);
    assert.ok(during);
    assert.match(during.s!, /"v":"airtime_do"/); // saved in the action state, no reply yet
    assert.equal(during.r, '');
    // Simulate a process that died mid-action: put that record back, as it was.
    await svc.app.redis.del(key);
    await svc.app.redis.hset(key, during);
    const retry = await post(twin.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, text: p.text });
    assert.equal(retry.body, first);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
  } finally {
    for (const s of [svc, twin])
      s.app.actions.register('airtime', async (ctx) => {
        airtimeCalls++;
        airtimeKeys.push(ctx.idempotencyKey);
        return { outcome: 'success' };
      });
  }
});

test('a snapshot from another menu version is treated as expired', async () => {
  const p = new Phone(svc.url, num());
  await p.dial();
  await p.walk('1', '2');
  await svc.app.redis.hset(`${prefix}sess:${p.sessionId}`, 'm', 'oldversion');
  assert.match(await p.send('0712000123'), /^CON Welcome to Kemru Pay/);
});
