// What the subscriber was told is what happens (issue "money safety", items 1, 4, 5, 10).
// The service runs on a Redis of its own here, so these tests can stall it (SIGSTOP) without
// touching the other test files; the gateway is a separate sandbox server.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/lib/private-redis.mjs';
import { startWithSandbox, ledger, smsLog, orderOf, waitState, waitSms, assertInvariants, faults, type Svc } from './support.js';
import { startSandbox, type Sandbox } from '../support/sandbox.js';
import { Phone, post } from '../support/ussd.js';
import { sleep } from '../support/wait.js';

let redis: PrivateRedis;
let sb: Sandbox;
let s: Svc;

before(async () => {
  redis = await startPrivateRedis({ stderr: 'ignore' });
  sb = await startSandbox();
  s = await startWithSandbox(sb, { REDIS_URL: redis.url, USSD_DEADLINE_MS: '1000' });
});
after(async () => {
  redis.proc.kill('SIGCONT');
  await s.svc.close();
  await sb.close();
  await redis.stop();
});

/** Redis stops answering (the process is frozen) until the returned function is called. */
function stallRedis(): () => void {
  redis.proc.kill('SIGSTOP');
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    redis.proc.kill('SIGCONT');
  };
}

async function agent(msisdn: string, pin: string): Promise<void> {
  await s.agents.add(msisdn);
  await s.agents.setPin(msisdn, pin);
}

test('Redis stalled at the confirm: "try again", and no money step of that hop ever starts', async () => {
  const phone = new Phone(s.url, '+254712300001');
  await phone.dial();
  await phone.walk('1', '1', '150');
  const resume = stallRedis();
  let reply: string;
  try {
    const t = Date.now();
    reply = await phone.send('1');
    assert.ok(Date.now() - t < 1500, 'answered within the deadline');
  } finally {
    setTimeout(resume, 1500); // Redis comes back after the reply, with the hop's commands queued
  }
  assert.match(reply, /^END Service temporarily unavailable, please try again/);
  await sleep(3000); // long enough for the stalled hop to finish and any checkout to be promoted
  assert.deepEqual((await s.payments.store.ids()).length, 0, 'no order was created');
  const mine = (await ledger(s)).filter((e) => JSON.stringify(e.body).includes('0712300001'));
  assert.deepEqual(mine, [], 'nothing reached the gateway for this subscriber');
  // The aggregator repeats the request: it gets the very reply the subscriber saw (the stalled
  // hop's own late answer must not replace it), and it is not a purchase.
  assert.equal((await post(s.url, { sessionId: phone.sessionId, phoneNumber: phone.phoneNumber, text: phone.text })).body, reply);
  assert.equal((await s.payments.store.ids()).length, 0);
  await assertInvariants(s);
});

test('Redis stalled after the action committed: "you will receive an SMS", and the SMS comes with the outcome', async () => {
  await agent('+254722300002', '4321');
  const real = s.svc.app.actions.get('balance')!;
  let resume: (() => void) | undefined;
  // The engine has saved the action state and committed; Redis freezes while the action runs.
  s.svc.app.actions.register('balance', async (ctx) => {
    resume = stallRedis();
    return real(ctx);
  });
  try {
    const phone = new Phone(s.url, '+254722300002');
    await phone.dial();
    await phone.walk('4');
    const reply = await phone.send('4321');
    assert.match(reply, /^END We are processing your request\. You will receive an SMS/);
    resume!();
    const sms = await waitSms(s, '+254722300002', /^Float: KES [\d,]+\.\d\d\nEarnings: KES/, 10_000);
    assert.ok(sms);
  } finally {
    resume?.();
    s.svc.app.actions.register('balance', real);
  }
});

test('an agent balance check slower than the deadline keeps its promise of an SMS', async () => {
  await agent('+254722300003', '1357');
  await faults(s, { latencyMs: 1500 });
  try {
    const phone = new Phone(s.url, '+254722300003');
    await phone.dial();
    await phone.walk('4');
    assert.match(await phone.send('1357'), /^END We are processing your request\. You will receive an SMS/);
    await waitSms(s, '+254722300003', /^Float: KES/, 10_000);
  } finally {
    await faults(s, { latencyMs: 0 });
  }
});

test('a wrong PIN found after the deadline is told by SMS, not left unsaid', async () => {
  await agent('+254722300004', '2468');
  await faults(s, { latencyMs: 0 });
  const real = s.svc.app.actions.get('balance')!;
  s.svc.app.actions.register('balance', async (ctx) => {
    await sleep(1500); // slower than USSD_DEADLINE_MS
    return real(ctx);
  });
  try {
    const phone = new Phone(s.url, '+254722300004');
    await phone.dial();
    await phone.walk('4');
    assert.match(await phone.send('9999'), /^END We are processing your request\. You will receive an SMS/);
    await waitSms(s, '+254722300004', /not completed\. Please dial again/, 10_000);
  } finally {
    s.svc.app.actions.register('balance', real);
  }
});

test('a session belongs to its phone: another phone naming it gets END and changes nothing', async () => {
  const a = new Phone(s.url, '+254712300005');
  await a.dial();
  await a.walk('1', '1', '120');
  const confirm = await a.send('1'); // A's answered confirm: its reply is stored for replays
  assert.match(confirm, /^END You will receive an M-PESA prompt to pay KES 120/);
  // B replays A's exact request (sessionId and text): no replay of A's screen for B.
  const hijack = await post(s.url, { sessionId: a.sessionId, phoneNumber: '+254712300006', text: a.text });
  assert.match(hijack.body, /^END This session is not available/);
  assert.doesNotMatch(hijack.body, /KES 120/);

  // Mid-session: B posts A's sessionId with the confirm text before A confirms.
  const c = new Phone(s.url, '+254712300007');
  await c.dial();
  await c.walk('1', '1', '130');
  const b = await post(s.url, { sessionId: c.sessionId, phoneNumber: '+254712300008', text: `${c.text}*1` });
  assert.match(b.body, /^END This session is not available/);
  // A can still finish, and only A pays.
  assert.match(await c.send('1'), /^END You will receive an M-PESA prompt to pay KES 130/);
  const o = await orderOf(s, c.sessionId);
  assert.equal(o.phone, '+254712300007');
  assert.equal((await waitState(s, o.id, 'terminal', 15_000)).state, 'fulfilled');
  const checkouts = (await ledger(s)).filter((e) => e.endpoint === 'checkout' && JSON.stringify(e.body).includes('0712300008'));
  assert.deepEqual(checkouts, [], 'B was never charged');
  await assertInvariants(s);
});

test('a sessionId reused after expiry makes a new order for the new customer', async () => {
  const first = new Phone(s.url, '+254712300009');
  await first.dial();
  await first.walk('1', '1', '100');
  assert.match(await first.send('1'), /pay KES 100/);
  const o1 = await orderOf(s, first.sessionId);
  await s.svc.app.redis.del(`${s.svc.app.config.REDIS_PREFIX}sess:${first.sessionId}`); // the session expired
  const second = new Phone(s.url, '+254712300010', undefined, first.sessionId);
  await second.dial();
  await second.walk('1', '1', '300');
  assert.match(await second.send('1'), /pay KES 300/);
  const ids = [];
  for (const id of await s.payments.store.ids()) if ((await s.payments.store.get(id))?.session === first.sessionId) ids.push(id);
  assert.equal(ids.length, 2, 'two orders');
  const o2 = (await s.payments.store.get(ids.find((i) => i !== o1.id)!))!;
  assert.equal(o2.amountMinor, 30_000);
  assert.equal(o2.phone, '+254712300010');
  await waitState(s, o2.id, 'terminal', 15_000);
  const checkouts = (await ledger(s)).filter((e) => e.endpoint === 'checkout' && e.reference?.startsWith(o2.id));
  assert.equal(checkouts.length, 1);
  assert.equal(checkouts[0]!.body.amount, '300');
  await waitState(s, o1.id, 'terminal', 15_000);
  await assertInvariants(s);
  assert.ok((await smsLog(s)).length > 0);
});
