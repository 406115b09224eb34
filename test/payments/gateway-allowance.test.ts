// Demand above the gateway's allowance: a money step or an order SMS with no slot in the shared
// rate limit waits for one, however long, as a delayed job. The wait uses no attempts and none of
// MONEY_RETRY_BUDGET_S (the step never left: nothing about it is unknown), the step is not marked
// "possibly sent" while it waits (only once it holds a slot), and the backlog is visible in
// /metrics and on GET /api/orders/:id (docs/architecture.md, "The life of a purchase").
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { assertInvariants, ledger, seedOrder, smsLog, start, vendsFor, waitState, type Svc } from './support.js';
import { sleep } from '../support/wait.js';
import { TOKEN } from '../support/api.js';

let s: Svc;
// Two requests a minute, a 1 s money budget, and callers that give up on a slot after 100 ms:
// without waiting for slots as delayed jobs, each step below would be parked or dropped in ~1 s.
before(async () => {
  s = await start({
    GATEWAY_RATE_LIMIT_PER_MIN: '2',
    GATEWAY_RATE_RESERVE_PCT: '0',
    GATEWAY_RATE_WAIT_MS: '100',
    MONEY_RETRY_BUDGET_S: '1',
    PAYMENTS_RETRY_BASE_MS: '50',
    PAYMENTS_MAX_WAIT_MS: '300',
  });
});
after(() => s.svc.close());

/** Uses up the minute's allowance with reads of our own. */
async function exhaust(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    try {
      await s.svc.app.gateways.fulfil.balance();
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'RATE_LIMITED');
      return;
    }
  }
  assert.fail('the allowance never ran out');
}

/** The allowance grows back: the limiter's window emptied (as a minute passing would). */
async function refill(): Promise<void> {
  const keys = await s.svc.app.redis.keys(`${s.svc.app.key('ratelimit')}*`);
  if (keys.length) await s.svc.app.redis.del(...keys);
}

/**
 * A job waiting for a slot wakes now and then to ask again (briefly 'active'), then goes back to
 * waiting as a delayed job: sampled until it is seen delayed. It must never fail or complete
 * meanwhile, nor use an attempt.
 */
async function seenDelayed(jobId: string): Promise<void> {
  const states: string[] = [];
  for (let i = 0; i < 100 && states.at(-1) !== 'delayed'; i++) {
    states.push(await s.payments.jobs.queue.getJobState(jobId));
    assert.ok(['delayed', 'active', 'waiting', 'prioritized'].includes(states.at(-1)!), states.join(','));
    if (states.at(-1) !== 'delayed') await sleep(20);
  }
  assert.equal(states.at(-1), 'delayed', states.join(','));
  assert.equal((await s.payments.jobs.queue.getJob(jobId))?.attemptsMade, 0, 'no attempt used');
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('a vend with no rate-limit slot waits past the money budget without being marked sent, shows as waiting, then vends once', async () => {
  const id = await seedOrder(s, 'allowance-vend', '+254712500001', 5_000, ['awaiting_payment', 'paid']);
  await exhaust();
  await s.payments.enqueue(id, 'fulfil');
  await sleep(2_500); // more than twice MONEY_RETRY_BUDGET_S
  const o = await s.payments.store.get(id);
  assert.equal(o?.state, 'fulfilling', 'still waiting for a slot, not needs_attention');
  assert.equal((await s.payments.store.stepInfo(id, 'fulfil')).sent, false, 'a step waiting for a slot never left');
  const job = await s.payments.jobs.queue.getJob(`${id}-fulfil`);
  assert.equal(job?.attemptsMade, 0, 'waiting used no attempts');
  await seenDelayed(`${id}-fulfil`);
  assert.equal(await metric('payments_waiting_for_gateway'), 1);
  assert.ok((await metric('payments_gateway_wait_oldest_seconds')) >= 2);
  const detail = (await (await fetch(`${s.url}/api/orders/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
    waitingForGateway?: Array<{ step: string; waitedMs: number }>;
  };
  assert.equal(detail.waitingForGateway?.[0]?.step, 'fulfil');
  assert.ok(detail.waitingForGateway[0].waitedMs >= 2_000);
  assert.equal(vendsFor(await ledger(s), id).length, 0);

  // The allowance comes back (each later call of this order needs its own slot too).
  let done;
  for (let i = 0; i < 100 && !done; i++) {
    await refill();
    const cur = await s.payments.store.get(id);
    if (cur?.state === 'fulfilled' && (await smsLog(s)).some((m) => m.recipients.includes('+254712500001'))) done = cur;
    else await sleep(100);
  }
  assert.ok(done, 'fulfilled and its receipt sent once slots were free');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  assert.equal(await metric('payments_waiting_for_gateway'), 0);
  assert.ok((await metric('payments_gateway_wait_seconds_count')) >= 1, 'the wait is observed when the slot comes');
  await assertInvariants(s);
});

test('an order SMS with no slot waits past the budget and is then sent, never given up', async () => {
  const id = await seedOrder(s, 'allowance-sms', '+254712500002', 5_000, ['awaiting_payment', 'cancelled']);
  await refill();
  await exhaust();
  await s.payments.notify(id, 'cancelled');
  await sleep(2_000);
  const h = await s.payments.store.history(id);
  assert.ok(!h.some((e) => /given up/.test(e.cause)), h.map((e) => e.cause).join(' | '));
  assert.equal((await s.payments.jobs.queue.getJob(`${id}-smscancelled`))?.attemptsMade, 0);
  let sent = false;
  for (let i = 0; i < 60 && !sent; i++) {
    await refill();
    sent = (await smsLog(s)).some((m) => m.recipients.includes('+254712500002'));
    if (!sent) await sleep(100);
  }
  assert.ok(sent, 'the SMS went out once a slot was free');
  await waitState(s, id, ['cancelled']);
});

test('a lookup with no rate-limit slot (a checkout that may have left) waits as a delayed job instead of failing attempts', async () => {
  const id = await seedOrder(s, 'allowance-lookup', '+254712500003', 5_000, ['awaiting_payment']);
  await s.payments.store.markSent(id, 'checkout'); // it may have reached the gateway: only a lookup may follow
  await refill();
  await exhaust();
  await s.payments.enqueue(id, 'checkout');
  await sleep(1_500);
  const job = await s.payments.jobs.queue.getJob(`${id}-checkout`);
  assert.equal(job?.attemptsMade, 0, 'no attempt failed for want of a slot');
  await seenDelayed(`${id}-checkout`);
  assert.ok((await s.payments.gatewayWait.ofOrder(id)).some((w) => w.step === 'checkout'));
  await refill();
});
