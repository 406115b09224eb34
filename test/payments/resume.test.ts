// A confirming step whose first run died right after creating the order (process killed, Redis
// blip): the repeated request must carry the order on, not leave it in `created` until
// reconciliation closes it while the subscriber waits for a prompt or the agent for an SMS.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { draftOrder } from '../../src/payments/actions.js';
import type { ActionContext, ActionResult } from '../../src/ussd/actions.js';
import { assertInvariants, ledger, start, vendsFor, waitSms, waitState, type Svc } from './support.js';

let s: Svc;
before(async () => {
  s = await start({ CHECKOUT_DELAY_MS: '0' });
});
after(() => s.svc.close());

function ctxFor(action: string, phone: string, params: Record<string, string>, values: Record<string, string>) {
  const later: Array<() => unknown> = [];
  const sessionId = `resume-${randomUUID()}`;
  const ctx: ActionContext = {
    action,
    params,
    sessionId,
    menuId: 'main',
    serviceCode: '*860*30#',
    phone,
    lang: 'en',
    values,
    idempotencyKey: `${sessionId}:confirm`,
    signal: AbortSignal.timeout(3000),
    logger: s.svc.app.logger,
    afterReply: (fn) => {
      later.push(fn);
    },
    commit: () => true,
    sessionInstance: sessionId,
  };
  return {
    ctx,
    runAfterReply: async () => {
      for (const fn of later) await fn();
    },
  };
}

async function run(ctx: ActionContext): Promise<ActionResult> {
  const handler = s.svc.app.actions.get(ctx.action);
  assert.ok(handler, ctx.action);
  return handler(ctx);
}

test('checkout: an order left in created by a dead first run is carried on by the repeat', async () => {
  const phone = '+254712500001';
  const { ctx, runAfterReply } = ctxFor('airtime', phone, { pay: 'checkout' }, { amount: '15000' });
  const draft = draftOrder('airtime', ctx);
  assert.ok('id' in draft);
  // What the first run managed before it died.
  assert.equal(await s.payments.store.create(draft, 'first run, then the process died'), true);
  const r = await run(ctx);
  assert.equal(r.outcome, 'success');
  await runAfterReply();
  assert.equal((await waitState(s, draft.id, 'terminal', 10_000)).state, 'fulfilled');
  await waitSms(s, phone, 'Success');
  assert.equal(vendsFor(await ledger(s), draft.id).length, 1);
  await assertInvariants(s);
});

test('float: an order left in created after the PIN was verified is vended once by the repeat', async () => {
  const phone = '+254722500002';
  await s.agents.add(phone);
  await s.agents.setPin(phone, '4321');
  const { ctx } = ctxFor('airtime', phone, { pay: 'float' }, { amount: '10000', recipient: '0712500003', pin: '4321' });
  const draft = draftOrder('airtime', ctx);
  assert.ok('id' in draft);
  assert.equal(await s.payments.store.create({ ...draft, pay: 'float' }, 'first run: PIN verified, then the process died'), true);
  const r = await run(ctx);
  assert.equal(r.outcome, 'success', JSON.stringify(r));
  const done = await waitState(s, draft.id, 'terminal', 10_000);
  assert.equal(done.state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), draft.id).length, 1);
  // A second repeat changes nothing.
  assert.equal((await run(ctx)).outcome, 'success');
  assert.equal(vendsFor(await ledger(s), draft.id).length, 1);
  await assertInvariants(s);
});
