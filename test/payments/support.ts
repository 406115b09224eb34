// Shared by the payments tests: the real service with its payments handle, the sandbox's test
// routes of its gateway, waits on orders and SMS, seeded orders, and the invariant check run
// after every scenario.
import assert from 'node:assert/strict';
import type { RunningService } from '../../src/app.js';
import { startTestService } from '../support/service.js';
import { paymentsOf, type PaymentsHandle } from '../../src/payments/module.js';
import { checkInvariants, PAID_CAUSE, type LedgerLike } from '../../src/payments/invariants.js';
import { TERMINAL, type Order, type OrderState } from '../../src/payments/types.js';
import { orderIdFor } from '../../src/payments/ids.js';
import type { StartOptions } from '../../src/app.js';
import { sandboxFaults, sandboxLedger, sandboxSms, type Sandbox, type SandboxSms } from '../support/sandbox.js';

export interface Svc extends PaymentsHandle {
  svc: RunningService;
  url: string;
  /** Where the sandbox's test routes (_ledger, _sms, _faults) answer. */
  gw: string;
}

/** The service against a separate sandbox; IPNs reach it once it has registered its callback. */
export async function startWithSandbox(sb: Sandbox, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<Svc> {
  const s = await start({ GATEWAY_URL: sb.url, ...env }, opts);
  const reg = await s.svc.app.gateway.registerCallback(`${s.url}/callbacks/kyanda`);
  assert.equal(reg.kind, 'succeeded');
  return { ...s, gw: sb.url };
}

export const FAST_ENV: Record<string, string> = {
  SANDBOX_CHECKOUT_DELAY_MS: '150',
  CHECKOUT_DELAY_MS: '3000',
  PAYMENTS_RETRY_BASE_MS: '100',
  GATEWAY_RETRY_BASE_MS: '20',
  RECONCILE_AFTER_S: '1',
  RECONCILE_EVERY_S: '3600', // tests call reconcile() themselves
  OTP_LENGTH: '6',
};

export async function start(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<Svc> {
  const svc = await startTestService({ ...FAST_ENV, ...env }, opts);
  const h = paymentsOf.get(svc.app);
  assert.ok(h, 'payments module running');
  return { svc, url: svc.url, gw: svc.url, ...h };
}

// The sandbox's test routes of this service's gateway (shared helpers, by service).
export const ledger = (s: Svc) => sandboxLedger<Entry>(s.gw);
export const smsLog = (s: Svc) => sandboxSms(s.gw);
export const faults = (s: Svc, body: Record<string, unknown>) => sandboxFaults(s.gw, body);

/** The order created by a session's confirming step. */
export async function orderOf(s: Svc, sessionId: string, ms = 3000): Promise<Order> {
  const until = Date.now() + ms;
  for (;;) {
    for (const id of await s.payments.store.ids()) {
      const o = await s.payments.store.get(id);
      if (o?.session === sessionId) return o;
    }
    if (Date.now() > until) throw new Error(`no order for session ${sessionId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitState(s: Svc, id: string, states: OrderState[] | 'terminal', ms = 8000): Promise<Order> {
  const until = Date.now() + ms;
  let last: Order | undefined;
  for (;;) {
    last = await s.payments.store.get(id);
    if (last && (states === 'terminal' ? TERMINAL.has(last.state) : states.includes(last.state))) return last;
    if (Date.now() > until) {
      const h = await s.payments.store.history(id);
      throw new Error(`order ${id} stuck in ${last?.state}: ${h.map((e) => `${e.to}:${e.cause}`).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until an SMS to `phone` containing `text` shows up; returns it. */
export async function waitSms(s: Svc, phone: string, text: string | RegExp, ms = 8000): Promise<SandboxSms> {
  const until = Date.now() + ms;
  for (;;) {
    const hit = (await smsLog(s)).find((m) => m.recipients.includes(phone) && (typeof text === 'string' ? m.message.includes(text) : text.test(m.message)));
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`no SMS to ${phone} matching ${text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every order settled and the three promises hold. */
export async function assertInvariants(s: Svc): Promise<void> {
  const problems = await checkInvariants(s.payments.store, await ledger(s));
  assert.deepEqual(problems, []);
}

export type Entry = LedgerLike & { body: Record<string, unknown>; at: string };

export function vendsFor(entries: Entry[], orderId: string): Entry[] {
  return entries.filter((e) => ['airtime', 'pin-airtime', 'bill'].includes(e.endpoint) && e.reference?.startsWith(`${orderId}-`));
}

/** A checkout airtime order for `phone` set up directly and walked through `states` (tests of one step). */
export async function seedOrder(s: Svc, tag: string, phone: string, amountMinor: number, states: OrderState[]): Promise<string> {
  const st = s.payments.store;
  const id = orderIdFor(`${tag}-${Date.now()}-${Math.random()}`);
  await st.create({ id, idem: id, kind: 'airtime', pay: 'checkout', phone, lang: 'en', amountMinor, recipient: phone, telco: 'SAFARICOM' }, 'test');
  // A seeded payment says so the way a real one is recorded (the invariants check the cause).
  for (const to of states)
    await st.transition(id, to, to === 'paid' ? `${PAID_CAUSE} (test seed)` : `test: ${to}`, to === 'paid' ? { set: { paidMinor: amountMinor } } : {});
  return id;
}

/**
 * The customer pays at the gateway for an order's checkout step (a real STK push on the
 * sandbox, completing after SANDBOX_CHECKOUT_DELAY_MS), with its reference kept as the flow
 * keeps it. For tests where the payment arrives while the order is in some other state.
 */
export async function payAtGateway(s: Svc, id: string, phone: string, amountMinor: number): Promise<string> {
  const reference = `${id}-checkout`;
  const gw = s.svc.app.gateways.collect;
  await s.payments.store.markSent(id, 'checkout');
  const r = await gw.checkout({ phone, amountMinor, channel: 'MPESA', metadata: { reference } }, { reference });
  assert.ok(r.kind === 'pending' && r.gatewayRef, `checkout accepted: ${JSON.stringify(r)}`);
  await s.payments.store.recordStepRef(id, 'checkout', gw.name, r.gatewayRef);
  return r.gatewayRef;
}
