// The collect → fulfil → notify flow. Every money-moving step is a job (id `${orderId}-${step}`,
// which is also our reference on the wire). The rules (docs/architecture.md, "The life of a
// purchase"; docs/gateways.md, "Whose reference" for the decision table):
//   - a step that may already have reached the gateway is looked up before anything is sent,
//     by the gateway's own reference when we have it; "not found" under our reference proves
//     nothing unless the gateway indexes it (PAG), so such a step is HELD, never re-sent;
//   - a payment is only ever confirmed by the gateway's status lookup (never by an IPN, never
//     by the checkout's own answer), and only when amount, currency and payer match the order;
//   - a step that cannot be settled waits (without using up the job's attempts) within
//     MONEY_RETRY_BUDGET_S, then the order goes to needs_attention for a person.
import { DelayedError, type Job } from 'bullmq';
import type { AppContext } from '../app-context.js';
import { GatewayError, type Gateway, type GatewayResult, type TransactionUpdate } from '../gateway/types.js';
import { JobQueue } from '../jobs/queue.js';
import { parsePhone } from '../lib/phone.js';
import { maskPhone } from '../log.js';
import { channelFor } from './catalog.js';
import { stepRef, type Step } from './ids.js';
import { IpnStore } from './ipn-store.js';
import { OrderStore } from './order-store.js';
import { GatewayWait } from './gateway-wait.js';
import { Settler, type Settlement } from './settle.js';
import { noticeText, type Notice } from './sms-text.js';
import { TERMINAL, type Order } from './types.js';

/** A step that must wait: its outcome is unknown, or the gateway cannot take it now. */
export class Hold extends Error {
  override readonly name = 'Hold';
  constructor(
    message: string,
    /**
     * Set when the step never left because the shared gateway allowance had no slot for it (the
     * limiter's estimate of when one frees up). Such a step waits for its slot, however long the
     * backlog: nothing is unknown about it, so the wait spends neither attempts nor the
     * MONEY_RETRY_BUDGET_S budget (docs/architecture.md, "The life of a purchase").
     */
    readonly slotInMs?: number,
  ) {
    super(message);
  }
}

/** Which gateway role a step goes to. */
export function roleOf(step: Step): 'collect' | 'fulfil' | 'sms' {
  return step === 'checkout' ? 'collect' : step.startsWith('sms') ? 'sms' : 'fulfil';
}

const MONEY_JOBS = new Set(['checkout', 'fulfil', 'refund']);

/** What a payments job carries (its name says which kind: checkout, fulfil, refund, notify, ipn, reconcile). */
export interface PaymentJob {
  orderId?: string;
  /** refund jobs: which attempt (refund1, refund2, …). */
  step?: Step;
  /** notify jobs: which SMS. */
  notice?: Notice;
  /** ipn jobs: the recorded IPN to process. */
  ipnId?: string;
  /** How many times the step has been held (its backoff). */
  holds?: number;
}

/** What Payments uses of the application context (its job queue's parts included). */
type PaymentsDeps = Pick<AppContext, 'config' | 'gateways' | 'key' | 'logger' | 'metrics' | 'redis' | 'queueConnection' | 'queuePrefix'>;

export class Payments {
  readonly store: OrderStore;
  readonly ipns: IpnStore;
  readonly jobs: JobQueue;
  readonly settler: Settler;
  /** Steps waiting for a slot in the shared gateway allowance (metrics, orders API). */
  readonly gatewayWait: GatewayWait;

  constructor(private readonly app: PaymentsDeps) {
    this.store = new OrderStore(app.redis, app.key);
    this.ipns = new IpnStore(app.redis, app.key);
    this.jobs = new JobQueue(app, 'payments', {
      concurrency: app.config.PAYMENTS_CONCURRENCY,
      lockDurationMs: app.config.PAYMENTS_JOB_LOCK_MS,
      // Waiting (a held step, a busy gateway) does not use attempts: these count failures of
      // our own (Redis errors, bugs), retried with backoff.
      attempts: 12,
      backoffMs: app.config.PAYMENTS_RETRY_BASE_MS,
    });
    this.settler = new Settler(app, this.store, this);
    this.gatewayWait = new GatewayWait(app);
  }

  private get log() {
    return this.app.logger;
  }

  gatewayFor(step: Step): Gateway {
    return this.app.gateways[roleOf(step)];
  }

  // ── enqueueing ────────────────────────────────────────────────────
  async enqueue(orderId: string, step: Step, delayMs = 0): Promise<void> {
    const name = step.startsWith('refund') ? 'refund' : step;
    await this.jobs.add(name, { orderId, step }, stepRef(orderId, step), delayMs > 0 ? { delay: delayMs } : {});
  }

  async notify(orderId: string, notice: Notice): Promise<void> {
    await this.jobs.add('notify', { orderId, notice }, stepRef(orderId, `sms${notice}`));
  }

  /**
   * A settled order's SMS, queued again when it was never sent. The move that settles an order
   * and the queueing of its SMS are two writes: a worker killed, or Redis stalled, between them
   * would lose the SMS, and the retried job then finds the order settled. Every step that finds
   * its order settled calls this; the job id and the once-flag make it a no-op otherwise.
   */
  async ensureNotice(order: Order): Promise<void> {
    const notice = noticeOf(order);
    if (!notice) return;
    if (await this.store.isOnce(order.id, `sms${notice}`)) return;
    await this.notify(order.id, notice);
  }

  /** Re-adds a step whose job already ran (kept as completed/failed) so it runs again. */
  async redrive(orderId: string, step: Step): Promise<void> {
    const job = await this.jobs.queue.getJob(stepRef(orderId, step));
    if (job) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') await job.remove().catch(() => undefined);
      else if (state === 'delayed') {
        await job.promote().catch(() => undefined); // a held step: look now
        return;
      } else return; // waiting or active: it will run
    }
    await this.enqueue(orderId, step);
  }

  // ── the worker ────────────────────────────────────────────────────
  async process(job: Job<PaymentJob>, token?: string): Promise<unknown> {
    let slotWait = false;
    try {
      return await this.dispatch(job);
    } catch (err) {
      const hold = err instanceof Hold ? err : (slotHold(err) ?? (MONEY_JOBS.has(job.name) || job.name === 'notify' ? outageHold(err) : undefined));
      if (!hold || !token) throw err;
      slotWait = hold.slotInMs !== undefined;
      return await this.wait(job, token, hold);
    } finally {
      if (!slotWait && job.id) await this.gatewayWait.done(job.id).catch(() => undefined);
    }
  }

  private dispatch(job: Job<PaymentJob>): Promise<unknown> {
    const d = job.data;
    switch (job.name) {
      case 'checkout':
        return this.runCheckout(d.orderId!);
      case 'fulfil':
        return this.runFulfil(d.orderId!);
      case 'refund':
        return this.runRefund(d.orderId!, d.step!);
      case 'notify':
        return this.runNotify(d.orderId!, d.notice!);
      case 'ipn':
        return this.settler.processIpn(d.ipnId!);
      case 'reconcile':
        return this.settler.reconcile();
      default:
        this.log.warn({ job: job.id, name: job.name }, 'unknown payments job');
        return Promise.resolve(undefined);
    }
  }

  /**
   * A held step waits: the job moves itself back to delayed (its attempts untouched) until the
   * step's budget is spent; then the order goes to a person.
   */
  private async wait(job: Job<PaymentJob>, token: string, hold: Hold): Promise<string> {
    const d = job.data;
    const step: Step = d.step ?? (d.notice ? `sms${d.notice}` : (job.name as Step));
    if (hold.slotInMs !== undefined) {
      // No slot in the shared allowance: wait about as long as the limiter says, without
      // starting or checking the budget's clock, and be counted as waiting (metrics, orders API).
      await this.gatewayWait.start(job.id!);
      const delay = Math.min(Math.max(hold.slotInMs, 50) + Math.floor(Math.random() * 250), this.app.config.PAYMENTS_MAX_WAIT_MS);
      this.log.info({ job: job.id, delayMs: delay }, 'payment step waiting for a gateway rate-limit slot');
      await job.moveToDelayed(Date.now() + delay, token);
      throw new DelayedError();
    }
    if (d.orderId && (MONEY_JOBS.has(job.name) || job.name === 'notify')) {
      const since = await this.store.startClock(d.orderId, budgetStep(step));
      if (Date.now() - since > this.app.config.MONEY_RETRY_BUDGET_S * 1000) {
        if (job.name === 'notify') {
          await this.store.note(d.orderId, `sms ${d.notice} given up after ${this.app.config.MONEY_RETRY_BUDGET_S} s: ${hold.message}`);
          this.app.metrics.inc('sms_notice_given_up_total', {}, 1, 'Order SMS not sent within the retry budget');
          return 'sms given up';
        }
        await this.settler.toAttention(d.orderId, step, `${step} unresolved after ${this.app.config.MONEY_RETRY_BUDGET_S} s: ${hold.message}`);
        return 'needs_attention';
      }
    }
    const holds = (d.holds ?? 0) + 1;
    const delay = Math.min(this.app.config.PAYMENTS_RETRY_BASE_MS * 2 ** Math.min(holds - 1, 16), this.app.config.PAYMENTS_MAX_WAIT_MS);
    await job.updateData({ ...d, holds });
    this.log.info({ job: job.id, holds, delayMs: delay, why: hold.message }, 'payment step waiting');
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  }

  /**
   * Sends one money-moving call for a step, exactly once as far as the gateway can tell. A step
   * that may already have reached the gateway is looked up first; 'hold' when its outcome
   * cannot be established now.
   */
  private async send(
    order: Order,
    step: Step,
    call: (opts: { reference: string; beforeSend: () => Promise<void> }) => Promise<GatewayResult>,
  ): Promise<Settlement | 'hold' | Hold> {
    const gw = this.gatewayFor(step);
    const reference = stepRef(order.id, step);
    const info = await this.store.stepInfo(order.id, step);
    if (info.ref || info.sent) {
      const found = await this.settler.lookupStep(order, step, info.ref);
      if (found.kind === 'found') {
        await this.store.note(order.id, `${step}: found by the gateway's status lookup (${found.update.status})`);
        return this.settler.fromUpdate(found.update, true);
      }
      if (!found.proof) {
        await this.store.note(order.id, `${step}: outcome unknown (the gateway has no record under ${info.ref ?? 'our reference'}); held, not sent again`);
        return 'hold';
      }
      await this.store.note(order.id, `${step}: the gateway never received ${reference}; sending it`);
    }
    let r: GatewayResult;
    try {
      // "Possibly sent" is recorded once a rate-limit slot is held, right before the request
      // leaves: a step that died waiting for a slot never left, and must not be held as unknown.
      r = await call({ reference, beforeSend: () => this.store.markSent(order.id, step) });
    } catch (err) {
      // Thrown rather than answered: whether it left is unknown.
      await this.store.note(order.id, `${step}: call failed (${(err as Error).message}); will look up ${reference}`);
      return 'hold';
    }
    // The gateway's reference first: every later lookup depends on it.
    const gatewayRef = 'gatewayRef' in r ? r.gatewayRef : undefined;
    if (gatewayRef) await this.store.recordStepRef(order.id, step, gw.name, gatewayRef);
    switch (r.kind) {
      case 'succeeded':
        return { status: 'succeeded', ...(gatewayRef ? { gatewayRef } : {}), ...(r.details ? { details: r.details } : {}) };
      case 'pending':
      case 'accepted':
        return { status: 'pending', ...(gatewayRef ? { gatewayRef } : {}), ...(r.message ? { message: r.message } : {}) };
      case 'failed':
        // Definitely not done: a later attempt may send again.
        await this.store.clearSent(order.id, step);
        if (r.error.retryAfterMs !== undefined) return new Hold(`${step}: waiting for a gateway rate-limit slot`, r.error.retryAfterMs);
        return {
          status: 'failed',
          ...(gatewayRef ? { gatewayRef } : {}),
          code: r.error.code,
          message: r.error.message,
          userMessage: r.error.userMessage,
          retryable: r.error.retryable,
        };
      case 'unknown':
        await this.store.note(order.id, `${step}: outcome unknown (${r.error.code}); will look it up`);
        return 'hold';
    }
  }

  async runCheckout(orderId: string): Promise<string> {
    const order = await this.store.get(orderId);
    if (order && TERMINAL.has(order.state)) await this.ensureNotice(order);
    if (!order || order.state !== 'awaiting_payment') return `skip: ${order?.state ?? 'missing'}`;
    const info = await this.store.stepInfo(orderId, 'checkout');
    if (info.ref) return 'skip: already requested';
    const payer = parsePhone(order.phone);
    if (!payer.ok) {
      await this.settler.settle(orderId, 'checkout', { status: 'failed', code: 'BAD_PHONE', message: 'invalid payer phone' }, 'checkout');
      return 'bad phone';
    }
    const gw = this.gatewayFor('checkout');
    const s = await this.send(order, 'checkout', (opts) =>
      gw.checkout(
        { phone: payer.e164, amountMinor: order.amountMinor, channel: channelFor(payer.telco), metadata: { reference: stepRef(orderId, 'checkout') } },
        { ...opts, priority: 'money' },
      ),
    );
    if (s === 'hold') throw new Hold('checkout outcome unknown');
    if (s instanceof Hold) throw s;
    if (s.status === 'failed' && s.retryable) {
      await this.store.note(orderId, `checkout: refused for now (${s.code}); will retry`);
      throw new Hold(`checkout refused for now (${s.code})`);
    }
    await this.settler.settle(orderId, 'checkout', s, 'checkout reply');
    return s.status;
  }

  /**
   * A retryable refusal (rate limited, unreachable, down) waits and tries again, within the
   * budget; a definite failure refunds (or, for a float sale, tells the agent).
   */
  async runFulfil(orderId: string): Promise<string> {
    let order = await this.store.get(orderId);
    if (!order) return 'skip: missing';
    if (order.state === 'paid') {
      if (order.kind === 'merchant') {
        // Paying a merchant is complete once the money is in: nothing to vend.
        const t = await this.store.transition(orderId, 'fulfilled', 'merchant paid: nothing to vend', { from: ['paid'] });
        if (t.ok) await this.notify(orderId, 'receipt');
        return 'merchant paid';
      }
      const t = await this.store.transition(orderId, 'fulfilling', 'fulfilment started', { from: ['paid'] });
      if (!t.ok) return `skip: ${t.current}`;
      order = { ...order, state: 'fulfilling' };
    }
    if (TERMINAL.has(order.state)) await this.ensureNotice(order);
    if (order.state !== 'fulfilling') return `skip: ${order.state}`;
    const o = order;
    const g = this.gatewayFor('fulfil');
    // A customer who paid by checkout has left the session: the vend may be queued by the
    // gateway (offline_mode) and finish by IPN. An agent selling from float waits on the screen.
    const offlineMode = o.pay === 'checkout' && g.capabilities.offlineMode;
    const s = await this.send(o, 'fulfil', (opts) => {
      const callOpts = { ...opts, priority: 'money' as const, ...(offlineMode ? { offlineMode } : {}) };
      switch (o.kind) {
        case 'airtime':
          return g.airtime({ phone: o.recipient!, amountMinor: o.amountMinor, telco: o.telco as never, initiatorPhone: o.phone }, callOpts);
        case 'bundle':
          return g.airtime(
            { phone: o.recipient!, amountMinor: o.amountMinor, telco: 'FAIBA_B', productCode: o.productCode!, initiatorPhone: o.phone },
            callOpts,
          );
        case 'bill':
          return g.payBill({ biller: o.biller!, account: o.account!, amountMinor: o.amountMinor, initiatorPhone: o.phone }, callOpts);
        default:
          throw new Error(`nothing to fulfil for ${o.kind}`);
      }
    });
    if (s === 'hold') throw new Hold('fulfilment outcome unknown');
    if (s instanceof Hold) throw s;
    if (s.status === 'failed' && s.retryable) {
      await this.store.note(orderId, `fulfil: refused for now (${s.code}); will retry`);
      throw new Hold(`fulfil refused for now (${s.code})`);
    }
    await this.settler.settle(orderId, 'fulfil', s, 'vend reply');
    if (s.status === 'pending') await this.parkIfOverdue(orderId, 'fulfil');
    return s.status;
  }

  /**
   * A vend or payout the gateway still calls pending is normally settled by its IPN. Each time
   * it is found pending (its job, re-driven by reconciliation, looks it up) the step's budget
   * clock is checked: past MONEY_RETRY_BUDGET_S the order goes to a person instead of staying
   * "fulfilling" for ever. A late success still settles it from needs_attention.
   */
  private async parkIfOverdue(orderId: string, step: Step): Promise<void> {
    const since = await this.store.startClock(orderId, budgetStep(step));
    const budgetS = this.app.config.MONEY_RETRY_BUDGET_S;
    const reason = `${step} unresolved after ${budgetS} s: still pending at the gateway`;
    // Only from the step's own state: an IPN may have settled it meanwhile.
    const from = step === 'fulfil' ? 'fulfilling' : 'refunding';
    if (Date.now() - since > budgetS * 1000) await this.settler.toAttention(orderId, step, reason, {}, reason, [from]);
  }

  async runRefund(orderId: string, step: Step): Promise<string> {
    const order = await this.store.get(orderId);
    if (order && TERMINAL.has(order.state)) await this.ensureNotice(order);
    if (!order || order.state !== 'refunding') return `skip: ${order?.state ?? 'missing'}`;
    if (`refund${order.refundAttempt ?? 1}` !== step) return `skip: superseded by refund${order.refundAttempt}`;
    const payer = parsePhone(order.phone);
    if (!payer.ok) {
      await this.settler.toAttention(orderId, step, 'refund: the payer phone cannot be paid out to');
      return 'bad phone';
    }
    const g = this.gatewayFor(step);
    const s = await this.send(order, step, (opts) =>
      g.mobilePayout(
        {
          phone: payer.e164,
          amountMinor: refundAmount(order),
          channel: channelFor(payer.telco),
          initiatorName: this.app.config.PAYMENTS_INITIATOR_NAME,
          initiatorCountry: this.app.config.PAYMENTS_INITIATOR_COUNTRY,
        },
        { ...opts, priority: 'money', ...(g.capabilities.offlineMode ? { offlineMode: true } : {}) },
      ),
    );
    if (s === 'hold') throw new Hold('refund outcome unknown');
    if (s instanceof Hold) throw s;
    if (s.status === 'failed' && s.retryable) {
      await this.store.note(orderId, `${step}: refused for now (${s.code}); will retry`);
      throw new Hold(`refund refused for now (${s.code})`);
    }
    await this.settler.settle(orderId, step, s, 'payout reply');
    if (s.status === 'pending') await this.parkIfOverdue(orderId, step);
    return s.status;
  }

  async runNotify(orderId: string, notice: Notice): Promise<string> {
    const order = await this.store.get(orderId);
    if (!order) return 'skip: missing';
    const flag: Step = `sms${notice}`;
    if (await this.store.isOnce(orderId, flag)) return 'skip: sent';
    const gw = this.gatewayFor(flag);
    if (!gw.capabilities.sms) {
      await this.store.note(orderId, `sms ${notice} not sent: the SMS gateway (${gw.name}) sends no SMS`);
      return 'not sent';
    }
    const info = await this.store.stepInfo(orderId, flag);
    if (info.sent) {
      // An earlier run may have sent it and died before recording so (a worker killed): ask the
      // gateway by our reference before sending a second copy.
      const found = await this.settler.lookupStep(order, flag, info.ref).catch(() => undefined);
      if (found?.kind === 'found') {
        if (await this.store.once(orderId, flag)) await this.store.note(orderId, `sms ${notice} found sent by the gateway's lookup; not sent again`);
        return 'sent (found)';
      }
    }
    const r = await gw.sendSms(
      { phone: order.phone, message: noticeText(order, notice) },
      {
        reference: stepRef(orderId, flag),
        priority: 'notice',
        beforeSend: () => this.store.markSent(orderId, flag),
      },
    );
    if (r.kind === 'failed') {
      if (!r.error.retryable) {
        // A number the gateway refuses: retrying cannot help.
        await this.store.note(orderId, `sms ${notice} not sent: ${r.error.code} ${r.error.message}`);
        return 'not sent';
      }
      throw new Hold(`sms ${notice}: ${r.error.code} ${r.error.message}`, r.error.retryAfterMs);
    }
    // Unknown counts as sent: a missing receipt is better than a doubled one.
    if (await this.store.once(orderId, flag))
      await this.store.note(orderId, `sms ${notice} ${r.kind === 'unknown' ? 'sent (outcome unknown)' : 'sent'} to ${maskPhone(order.phone)}`);
    return 'sent';
  }

  // The settler's entry points, for scripts and tests that hold a Payments.
  settle(...a: Parameters<Settler['settle']>) {
    return this.settler.settle(...a);
  }
  reconcile(...a: Parameters<Settler['reconcile']>) {
    return this.settler.reconcile(...a);
  }
  reconcileOne(...a: Parameters<Settler['reconcileOne']>) {
    return this.settler.reconcileOne(...a);
  }
}

/** The SMS that tells the customer how a settled order ended (as the settling moves send it). */
export function noticeOf(o: Order): Notice | undefined {
  switch (o.state) {
    case 'fulfilled':
      return 'receipt';
    case 'refunded':
      return 'refunded';
    case 'cancelled':
    case 'failed':
      return o.pay === 'float' ? 'failed' : 'cancelled';
    default:
      return undefined;
  }
}

/**
 * A lookup or other gateway read refused for want of a rate-limit slot (it throws rather than
 * answers): the job waits for its slot like a step that never left.
 */
function slotHold(err: unknown): Hold | undefined {
  const e = err as { retryAfterMs?: unknown; message?: string } | null;
  if (err instanceof GatewayError && typeof e?.retryAfterMs === 'number')
    return new Hold(`waiting for a gateway rate-limit slot (${e.message})`, e.retryAfterMs);
  return undefined;
}

/**
 * A gateway read (the status lookup before a re-send) refused because the gateway is down or
 * unreachable: the step's outcome is still unknown, so it waits like any held step, within the
 * money budget, instead of burning job attempts (found by the pending-vend test).
 */
function outageHold(err: unknown): Hold | undefined {
  if (err instanceof GatewayError && err.retryable) return new Hold(`the gateway could not be asked (${err.code}: ${err.message})`);
  return undefined;
}

/** What a refund pays back: what was actually paid, never more than the order. */
export function refundAmount(o: Order): number {
  return o.refundMinor ?? o.paidMinor ?? o.amountMinor;
}

/** The step whose clock a budget runs on: every refund attempt shares refund1's. */
function budgetStep(step: Step): string {
  return step.startsWith('refund') ? 'refund1' : step;
}

export type { TransactionUpdate };
export { GatewayError };
