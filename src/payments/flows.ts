// The collect → fulfil → notify flow. Every money-moving step is a job (id `${orderId}-${step}`,
// which is also our reference on the wire); a step that may already have reached the gateway
// (a retried or resumed job) looks the reference up before sending anything.
import type { Job } from 'bullmq';
import type { AppContext } from '../app-context.js';
import { GatewayError, type GatewayResult, type TransactionUpdate, type UserMessage } from '../gateway/types.js';
import { JobQueue } from '../jobs/queue.js';
import { parsePhone } from '../lib/phone.js';
import { maskPhone } from '../log.js';
import { channelFor } from './catalog.js';
import { parseRef, stepRef } from './ids.js';
import { IpnStore } from './ipn-store.js';
import { OrderStore } from './order-store.js';
import { noticeText, type Notice } from './sms-text.js';
import type { Order } from './types.js';

/** Gateway down / unavailable: retryable, and queueable with offline_mode (kyanda). */
const OUTAGE = new Set(['1105', '1106']);

type Outcome = 'succeeded' | 'failed' | 'cancelled' | 'pending';

interface Settlement {
  status: Outcome;
  gatewayRef?: string;
  code?: string;
  message?: string;
  details?: Record<string, string>;
  /** Set when the failure came from our gateway client (safe to show). */
  userMessage?: UserMessage;
  /** The gateway did not do it and asking again later may work (1105/1106/5000, 429, unreachable). */
  retryable?: boolean;
}

export class Payments {
  readonly store: OrderStore;
  readonly ipns: IpnStore;
  readonly jobs: JobQueue;

  constructor(private readonly app: AppContext) {
    this.store = new OrderStore(app.redis, app.key);
    this.ipns = new IpnStore(app.redis, app.key);
    this.jobs = new JobQueue(app, 'payments', {
      concurrency: app.config.PAYMENTS_CONCURRENCY,
      lockDurationMs: app.config.PAYMENTS_JOB_LOCK_MS,
      attempts: 12,
      backoffMs: app.config.PAYMENTS_RETRY_BASE_MS,
    });
  }

  private get log() {
    return this.app.logger;
  }

  // ── enqueueing ────────────────────────────────────────────────────
  async enqueue(orderId: string, step: string, delayMs = 0): Promise<void> {
    const name = step.startsWith('refund') ? 'refund' : step;
    await this.jobs.add(name, { orderId, step }, stepRef(orderId, step), delayMs > 0 ? { delay: delayMs } : {});
  }

  async notify(orderId: string, notice: Notice): Promise<void> {
    await this.jobs.add('notify', { orderId, notice }, stepRef(orderId, `sms${notice}`));
  }

  /** Re-adds a step whose job already ran (kept as completed/failed) so it runs again. */
  async redrive(orderId: string, step: string): Promise<void> {
    const job = await this.jobs.queue.getJob(stepRef(orderId, step));
    if (job) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') await job.remove().catch(() => undefined);
      else return; // waiting, delayed or active: it will run
    }
    await this.enqueue(orderId, step);
  }

  // ── the worker ────────────────────────────────────────────────────
  async process(job: Job): Promise<unknown> {
    const d = job.data as { orderId?: string; step?: string; notice?: Notice; ipnId?: string };
    switch (job.name) {
      case 'checkout': return this.runCheckout(d.orderId!);
      case 'fulfil': return this.runFulfil(d.orderId!, { lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
      case 'refund': return this.runRefund(d.orderId!, d.step!);
      case 'notify': return this.runNotify(d.orderId!, d.notice!);
      case 'ipn': return this.processIpn(d.ipnId!);
      case 'reconcile': return this.reconcile();
      default: this.log.warn({ job: job.id, name: job.name }, 'unknown payments job');
    }
    return undefined;
  }

  /**
   * Sends one money-moving call for a step, exactly once as far as the gateway can tell: a second
   * attempt of the same step first asks the gateway what it knows under our reference.
   */
  private async send(order: Order, step: string, call: (opts: { reference: string; offlineMode?: boolean }) => Promise<GatewayResult>): Promise<Settlement | 'unknown'> {
    const reference = stepRef(order.id, step);
    const attempt = await this.store.attempt(order.id, step);
    if (attempt > 1) {
      const found = await this.lookup(reference); // throws (job retries) if the gateway cannot answer
      if (found) {
        await this.store.note(order.id, `${step}: found by lookup (${found.status}) on attempt ${attempt}`);
        return fromUpdate(found);
      }
    }
    let r = await call({ reference });
    if (r.kind === 'failed' && OUTAGE.has(r.error.code) && this.app.gateway.name === 'kyanda') {
      // 1105: the platform did not take it, so resending is safe; offline_mode queues it
      // and the result comes by IPN when the platform is back.
      await this.store.note(order.id, `${step}: gateway unavailable (${r.error.code}); resent with offline_mode`);
      r = await call({ reference, offlineMode: true });
    }
    switch (r.kind) {
      case 'succeeded':
        return { status: 'succeeded', ...(r.gatewayRef ? { gatewayRef: r.gatewayRef } : {}), ...(r.details ? { details: r.details } : {}) };
      case 'pending':
      case 'accepted':
        return { status: 'pending', ...(r.gatewayRef ? { gatewayRef: r.gatewayRef } : {}), ...(r.message ? { message: r.message } : {}) };
      case 'failed':
        return { status: 'failed', ...(r.gatewayRef ? { gatewayRef: r.gatewayRef } : {}), code: r.error.code, message: r.error.message, userMessage: r.error.userMessage, retryable: r.error.retryable };
      case 'unknown':
        await this.store.note(order.id, `${step}: outcome unknown (${r.error.code}); will look up ${reference}`);
        return 'unknown';
    }
  }

  /** What the gateway knows about our reference; null when it has never seen it. */
  async lookup(reference: string): Promise<TransactionUpdate | null> {
    try {
      return await this.app.gateway.transactionStatus(reference);
    } catch (err) {
      // The documented verify endpoint is the second source; if it fails too, the caller retries later.
      this.log.debug({ reference, err: (err as Error).message }, 'transaction status failed; trying verify');
      return this.app.gateway.verifyTransaction(reference);
    }
  }

  async runCheckout(orderId: string): Promise<string> {
    const order = await this.store.get(orderId);
    if (!order || order.state !== 'awaiting_payment') return `skip: ${order?.state ?? 'missing'}`;
    if (order.checkoutRef) return 'skip: already requested';
    const payer = parsePhone(order.phone);
    if (!payer.ok) {
      await this.settle(orderId, 'checkout', { status: 'failed', code: 'BAD_PHONE', message: 'invalid payer phone' }, 'checkout');
      return 'bad phone';
    }
    const s = await this.send(order, 'checkout', (opts) => this.app.gateway.checkout(
      { phone: payer.e164, amountMinor: order.amountMinor, channel: channelFor(payer.telco), metadata: { reference: stepRef(orderId, 'checkout') } },
      opts,
    ));
    if (s === 'unknown') throw new Error('checkout outcome unknown');
    await this.settle(orderId, 'checkout', s, 'checkout reply');
    return s.status;
  }

  /**
   * lastAttempt false: a retryable refusal (rate limited, unreachable, down) throws so the job
   * tries the vend again later instead of refunding a paid order at the first 429; on the job's
   * last attempt it is settled as failed (refund / failure SMS), so the order is never stuck.
   */
  async runFulfil(orderId: string, opts: { lastAttempt?: boolean } = {}): Promise<string> {
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
    if (order.state !== 'fulfilling') return `skip: ${order.state}`;
    const o = order;
    const g = this.app.gateway;
    const s = await this.send(o, 'fulfil', (opts) => {
      switch (o.kind) {
        case 'airtime':
          return g.airtime({ phone: o.recipient!, amountMinor: o.amountMinor, telco: o.telco as never, initiatorPhone: o.phone }, opts);
        case 'bundle':
          return g.airtime({ phone: o.recipient!, amountMinor: o.amountMinor, telco: 'FAIBA_B', productCode: o.productCode!, initiatorPhone: o.phone }, opts);
        case 'bill':
          return g.payBill({ biller: o.biller!, account: o.account!, amountMinor: o.amountMinor, initiatorPhone: o.phone }, opts);
        default:
          throw new Error(`nothing to fulfil for ${o.kind}`);
      }
    });
    if (s === 'unknown') throw new Error('fulfilment outcome unknown');
    if (s.status === 'failed' && s.retryable && opts.lastAttempt === false) {
      await this.store.note(orderId, `fulfil: refused for now (${s.code}); will retry`);
      throw new GatewayError(s.code ?? 'RETRY', `fulfil refused for now: ${s.code}`, true, s.userMessage ?? GENERIC);
    }
    await this.settle(orderId, 'fulfil', s, 'vend reply');
    return s.status;
  }

  async runRefund(orderId: string, step: string): Promise<string> {
    const order = await this.store.get(orderId);
    if (!order || order.state !== 'refunding') return `skip: ${order?.state ?? 'missing'}`;
    if (`refund${order.refundAttempt ?? 1}` !== step) return `skip: superseded by refund${order.refundAttempt}`;
    const payer = parsePhone(order.phone);
    if (!payer.ok) return 'bad phone';
    const s = await this.send(order, step, (opts) => this.app.gateway.mobilePayout({
      phone: payer.e164, amountMinor: order.amountMinor, channel: channelFor(payer.telco),
      initiatorName: this.app.config.PAYMENTS_INITIATOR_NAME, initiatorCountry: 'KE',
    }, opts));
    if (s === 'unknown') throw new Error('refund outcome unknown');
    await this.settle(orderId, step, s, 'payout reply');
    return s.status;
  }

  async runNotify(orderId: string, notice: Notice): Promise<string> {
    const order = await this.store.get(orderId);
    if (!order) return 'skip: missing';
    const flag = `sms${notice}`;
    if (await this.app.redis.exists(this.app.key('order', orderId, 'once', flag))) return 'skip: sent';
    const r = await this.app.gateway.sendSms({ phone: order.phone, message: noticeText(order, notice) }, { reference: stepRef(orderId, flag) });
    if (r.kind === 'failed') {
      if (!r.error.retryable) {
        // e.g. a gateway without an SMS endpoint (PAG), or a number it refuses: retrying cannot help.
        await this.store.note(orderId, `sms ${notice} not sent: ${r.error.code} ${r.error.message}`);
        return 'not sent';
      }
      // Retried with backoff by BullMQ (the gateway may be down or rate-limiting).
      throw new GatewayError(r.error.code, `sms ${notice}: ${r.error.message}`, true, r.error.userMessage);
    }
    // Unknown counts as sent: a missing receipt is better than a doubled one.
    if (await this.store.once(orderId, flag)) await this.store.note(orderId, `sms ${notice} ${r.kind === 'unknown' ? 'sent (outcome unknown)' : 'sent'} to ${maskPhone(order.phone)}`);
    return 'sent';
  }

  // ── applying outcomes (replies, IPNs, lookups all come here) ───────
  async settle(orderId: string, step: string, s: Settlement, source: string): Promise<void> {
    const st = this.store;
    const ref = s.gatewayRef;
    if (ref) await st.indexGatewayRef(ref, stepRef(orderId, step));
    const why = `${source}: ${step} ${s.status}${s.code ? ` ${s.code}` : ''}${s.message ? ` (${s.message})` : ''}`;
    // Where this step's gateway reference is kept on the order.
    const refField = step === 'checkout' ? 'checkoutRef' : step === 'fulfil' ? 'fulfilRef' : step.startsWith('refund') ? 'refundRef' : undefined;
    if (refField && s.status === 'pending') {
      // Still in progress at the gateway: keep its reference, the outcome comes later.
      if (ref) await st.note(orderId, why, { [refField]: ref });
      return;
    }
    if (step === 'checkout') {
      if (s.status === 'succeeded') {
        const t = await st.transition(orderId, 'paid', why, { from: ['awaiting_payment'], ...(ref ? { set: { checkoutRef: ref } } : {}) });
        if (t.ok) await this.enqueue(orderId, 'fulfil');
        else if (t.current === 'cancelled' || t.current === 'failed') await this.latePayment(orderId, t.current, why);
        return;
      }
      const to = s.status === 'cancelled' || /cancel/i.test(`${s.message ?? ''} ${s.details?.reason ?? ''}`) ? 'cancelled' : 'failed';
      const t = await st.transition(orderId, to, why, { from: ['awaiting_payment'], set: { ...reasonOf(s), ...(ref ? { checkoutRef: ref } : {}) } });
      if (t.ok) await this.notify(orderId, 'cancelled');
      return;
    }
    if (step === 'fulfil') {
      if (s.status === 'succeeded') {
        const d = s.details ?? {};
        const token = d.token ?? d.Token;
        const receipt = d.biller_Receipt ?? d.Telco_Reference;
        const t = await st.transition(orderId, 'fulfilled', why, {
          from: ['fulfilling'], set: { ...(ref ? { fulfilRef: ref } : {}), ...(token ? { token } : {}), ...(receipt ? { receipt } : {}) },
        });
        if (t.ok) await this.notify(orderId, 'receipt');
        return;
      }
      const order = await st.get(orderId);
      if (!order) return;
      const reason = reasonOf(s);
      if (order.pay === 'checkout') {
        const t = await st.transition(orderId, 'refunding', why, { from: ['fulfilling'], set: { ...reason, refundAttempt: 1, ...(ref ? { fulfilRef: ref } : {}) } });
        if (t.ok) await this.enqueue(orderId, 'refund1');
      } else {
        const t = await st.transition(orderId, 'failed', why, { from: ['fulfilling'], set: { ...reason, ...(ref ? { fulfilRef: ref } : {}) } });
        if (t.ok) await this.notify(orderId, 'failed');
      }
      return;
    }
    if (step.startsWith('refund')) {
      if (s.status === 'succeeded') {
        const t = await st.transition(orderId, 'refunded', why, { from: ['refunding'], ...(ref ? { set: { refundRef: ref } } : {}) });
        if (t.ok) await this.notify(orderId, 'refunded');
        return;
      }
      // A failed refund: the next attempt goes out under a new reference (the old one is final).
      const n = Number(step.slice(6)) || 1;
      if (await st.once(orderId, `${step}failed`)) {
        await st.note(orderId, `${why}; refund${n + 1} scheduled`, { refundAttempt: n + 1 });
        await this.enqueue(orderId, `refund${n + 1}`, Math.min(this.app.config.RECONCILE_AFTER_S * 1000, 5_000 * n));
      }
      return;
    }
    this.log.warn({ orderId, step }, 'settlement for an unknown step');
  }

  /** Money came in for an order the subscriber was told had failed: give it back, do not vend. */
  private async latePayment(orderId: string, closed: 'cancelled' | 'failed', why: string): Promise<void> {
    const order = await this.store.get(orderId);
    if (order?.pay !== 'checkout') return;
    this.log.warn({ orderId, closed }, 'payment confirmed after the order was closed; refunding');
    const paid = await this.store.transition(orderId, 'paid', `${why} after the order was ${closed}`, { from: [closed] });
    if (!paid.ok) return;
    const r = await this.store.transition(orderId, 'refunding', 'late payment: refund (the subscriber was told it did not go through)', { from: ['paid'], set: { refundAttempt: 1 } });
    if (r.ok) await this.enqueue(orderId, 'refund1');
  }

  // ── IPNs ──────────────────────────────────────────────────────────
  async processIpn(ipnId: string): Promise<string> {
    const rec = await this.ipns.get(ipnId);
    if (!rec) return 'missing';
    if (rec.processedAt) return 'already processed';
    let target = parseRef(rec.reference);
    if (!target) target = parseRef((await this.store.byGatewayRef(rec.gatewayRef)) ?? undefined);
    if (!target || !(await this.store.get(target.orderId))) {
      await this.ipns.markUnknown(ipnId);
      await this.ipns.markProcessed(ipnId, 'unknown reference');
      this.log.warn({ ipn: ipnId, gatewayRef: rec.gatewayRef }, 'IPN for an unknown reference kept for inspection');
      return 'unknown';
    }
    const update = JSON.parse(rec.update) as TransactionUpdate;
    await this.settle(target.orderId, target.step, fromUpdate(update), `ipn ${rec.gatewayRef}`);
    await this.ipns.markProcessed(ipnId, `${target.orderId} ${target.step} ${update.status}`);
    return 'ok';
  }

  // ── reconciliation ────────────────────────────────────────────────
  /** Orders quiet for longer than RECONCILE_AFTER_S are looked up and moved on. */
  async reconcile(olderThanMs = this.app.config.RECONCILE_AFTER_S * 1000, expireAfterMs = this.checkoutExpiryMs): Promise<Record<string, number>> {
    const ids = await this.store.stale(Date.now() - olderThanMs);
    const counts: Record<string, number> = {};
    for (const id of ids) {
      try {
        const r = await this.reconcileOne(id, { expireAfterMs });
        counts[r] = (counts[r] ?? 0) + 1;
      } catch (err) {
        counts.error = (counts.error ?? 0) + 1;
        this.log.warn({ orderId: id, err: (err as Error).message }, 'reconcile failed for order');
      }
      // Looked at: to the back of the queue if it is still open (a terminal order was removed
      // and XX keeps it out), so the next run reaches the orders behind it.
      await this.store.touch(id).catch(() => undefined);
    }
    if (ids.length) this.log.info({ orders: ids.length, counts }, 'reconciled');
    return counts;
  }

  /**
   * How long a checkout may await payment before reconciliation closes it (5 × RECONCILE_AFTER_S,
   * 10 min by default: an STK prompt times out on the handset long before). Closing is safe
   * whatever happens next: a payment confirmed later takes the late-payment path (refund).
   */
  get checkoutExpiryMs(): number {
    return 5 * this.app.config.RECONCILE_AFTER_S * 1000;
  }

  async reconcileOne(id: string, opts: { expireAfterMs?: number } = {}): Promise<string> {
    const o = await this.store.get(id);
    if (!o) return 'missing';
    const step = o.state === 'awaiting_payment' ? 'checkout' : o.state === 'fulfilling' ? 'fulfil'
      : o.state === 'refunding' ? `refund${o.refundAttempt ?? 1}` : undefined;
    if (o.state === 'created') {
      // The handler stopped between creating and moving on: nothing was sent for it.
      // Nothing was charged or vended; the subscriber (or agent) may have had no reply at all, so say so.
      const t = await this.store.transition(id, 'cancelled', 'reconcile: abandoned before payment was requested', { from: ['created'] });
      if (t.ok) await this.notify(id, o.pay === 'float' ? 'failed' : 'cancelled');
      return 'abandoned';
    }
    if (o.state === 'paid') {
      await this.redrive(id, 'fulfil');
      return 'fulfil redriven';
    }
    if (!step) return 'terminal';
    const found = await this.lookup(stepRef(id, step));
    if (found && found.status !== 'pending') {
      await this.settle(id, step, fromUpdate(found), 'reconcile lookup');
      return `settled ${found.status}`;
    }
    // A checkout the subscriber never paid (prompt ignored, IPN never coming) or that never
    // reached the gateway must not wait forever, nor be sent as a late STK push: close it and
    // say so. Only on the gateway's answer (pending / never seen): a failed lookup proves nothing.
    const expireAfterMs = opts.expireAfterMs ?? this.checkoutExpiryMs;
    if (step === 'checkout' && Date.now() - Date.parse(o.updatedAt) >= expireAfterMs) {
      const why = `reconcile: checkout expired (${found ? 'still pending' : 'never reached the gateway'} after ${Math.round(expireAfterMs / 1000)} s)`;
      const t = await this.store.transition(id, 'cancelled', why, { from: ['awaiting_payment'], set: { reasonCode: 'CHECKOUT_EXPIRED' } });
      if (t.ok) await this.notify(id, 'cancelled');
      return 'checkout expired';
    }
    if (found) return 'still pending';
    // The gateway never saw this step: (re)send it. The step's own guard looks up again first.
    await this.redrive(id, step);
    return `${step} redriven`;
  }
}

export function fromUpdate(u: TransactionUpdate): Settlement {
  const status: Outcome = u.status === 'succeeded' ? 'succeeded' : u.status === 'pending' ? 'pending'
    : u.status === 'cancelled' || u.details.reason === 'CANCELLED_BY_USER' ? 'cancelled' : 'failed';
  return { status, gatewayRef: u.gatewayRef, code: u.code, message: u.message, details: u.details };
}

const GENERIC: UserMessage = { en: 'The service provider could not complete it.', sw: 'Mtoa huduma hakuweza kukamilisha.' };

/** What a screen or SMS may say about a failure: our client's user-safe text, never the gateway's raw text. */
function reasonOf(s: Settlement): { reason: string; reasonSw: string; reasonCode: string } {
  const m = s.userMessage ?? GENERIC;
  return { reason: m.en, reasonSw: m.sw, reasonCode: s.code ?? '' };
}
