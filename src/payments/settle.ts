// Applying outcomes to orders: the answers of our own calls, the gateway's status lookups (the
// only thing that confirms a payment), IPNs (only a reason to look), reconciliation, and the
// operator's needs_attention queue.
import type { AppContext } from '../app-context.js';
import type { Gateway, Lookup, TransactionUpdate, UserMessage } from '../gateway/types.js';
import { parsePhone } from '../lib/phone.js';
import { parseRef, stepRef, type Step } from './ids.js';
import type { OrderStore } from './order-store.js';
import { checkPayment } from './payment-check.js';
import type { IpnStore } from './ipn-store.js';
import type { Notice } from './sms-text.js';
import { SETTLED, TERMINAL, type Order, type OrderState } from './types.js';
import { PAID_CAUSE } from './invariants.js';

/** What settling asks of the money flows (implemented by Payments in flows.ts). */
export interface SettlerFlows {
  /** Queue a step's durable job. */
  enqueue(orderId: string, step: Step, delayMs?: number): Promise<void>;
  /** Queue an SMS notice to the order's customer. */
  notify(orderId: string, notice: Notice): Promise<void>;
  /** Run a step's job again (operator retry, reconciliation). */
  redrive(orderId: string, step: Step): Promise<void>;
  /** Queue a settled order's SMS again if it was never sent (a retried job that finds its order settled). */
  ensureNotice(order: Order): Promise<void>;
  /** The gateway of the role that carries out this step. */
  gatewayFor(step: Step): Gateway;
  readonly ipns: IpnStore;
}

type Outcome = 'succeeded' | 'failed' | 'cancelled' | 'pending' | 'reversed';

export interface Settlement {
  status: Outcome;
  gatewayRef?: string;
  code?: string;
  message?: string;
  details?: Record<string, string>;
  /** Set when the failure came from our gateway client (safe to show). */
  userMessage?: UserMessage;
  /** The gateway did not do it and asking again later may work (429, unreachable, down). */
  retryable?: boolean;
  /** The transaction as the gateway's status lookup reported it (confirms payments). */
  looked?: TransactionUpdate;
}

/** States a needs_attention order may have stopped in, for the record. */
const ATTENTION_FROM: OrderState[] = ['awaiting_payment', 'paid', 'fulfilling', 'refunding', 'fulfilled', 'failed', 'cancelled'];

/** Our own SMS references: receipts (K…-sms…), OTPs, bulk batches, promised late SMS. */
const OWN_SMS_REF = /^(K[0-9A-HJKMNP-TV-Z]{15}-sms[a-z]+|otp-.+|sms-.+|bulk-.+|late-.+)$/;

export function isOwnSmsReference(ref: string | undefined): boolean {
  return !!ref && OWN_SMS_REF.test(ref);
}

/** What Settler uses of the application context (and nothing else of it). */
type SettlerDeps = Pick<AppContext, 'config' | 'logger' | 'metrics' | 'smsNotices'>;

export class Settler {
  constructor(
    private readonly app: SettlerDeps,
    private readonly store: OrderStore,
    private readonly payments: SettlerFlows,
  ) {}

  private get log() {
    return this.app.logger;
  }

  fromUpdate(u: TransactionUpdate, looked: boolean): Settlement {
    const status: Outcome =
      u.status === 'succeeded'
        ? 'succeeded'
        : u.status === 'pending'
          ? 'pending'
          : u.status === 'reversed'
            ? 'reversed'
            : u.status === 'cancelled' || u.details.reason === 'CANCELLED_BY_USER'
              ? 'cancelled'
              : 'failed';
    return { status, gatewayRef: u.gatewayRef, code: u.code, message: u.message, details: u.details, ...(looked ? { looked: u } : {}) };
  }

  /**
   * The gateway's word on one step. By the reference it gave us when we have it; otherwise by
   * ours. A record found by ours that names another of our references is not ours.
   * Throws when the gateway cannot answer.
   */
  async lookupStep(order: Order, step: Step, gatewayRef?: string): Promise<Lookup> {
    const gw = this.payments.gatewayFor(step);
    const reference = stepRef(order.id, step);
    const l = await gw.lookup({ ...(gatewayRef ? { gatewayRef } : {}), reference });
    if (l.kind !== 'found') return l;
    if (l.update.reference && l.update.reference !== reference) {
      this.log.warn({ orderId: order.id, step, found: l.update.reference }, 'status lookup returned another reference; ignored');
      return { kind: 'not_found', proof: false };
    }
    if (!gatewayRef && l.update.gatewayRef) await this.store.recordStepRef(order.id, step, gw.name, l.update.gatewayRef);
    return l;
  }

  // ── applying outcomes ──────────────────────────────────────────────
  async settle(orderId: string, step: Step, s: Settlement, source: string): Promise<void> {
    const st = this.store;
    const ref = s.gatewayRef;
    const why = `${source}: ${step} ${s.status}${s.code ? ` ${s.code}` : ''}${s.message ? ` (${s.message})` : ''}`;
    // Where this step's gateway reference is shown on the order.
    const refField = step === 'checkout' ? 'checkoutRef' : step === 'fulfil' ? 'fulfilRef' : step.startsWith('refund') ? 'refundRef' : undefined;
    if (s.status === 'pending') {
      // Still in progress at the gateway: the outcome comes later (IPN, then a lookup).
      if (ref && refField) await st.note(orderId, why, { [refField]: ref });
      return;
    }
    // A retry of the job that settled this order (its SMS may not have been queued).
    const cur = await st.get(orderId);
    if (cur && TERMINAL.has(cur.state)) await this.payments.ensureNotice(cur);
    if (step === 'checkout') return this.settleCheckout(orderId, s, why);
    if (step === 'fulfil') {
      if (s.status === 'reversed') {
        await this.toAttention(orderId, step, `the vend was reversed by the gateway (${source})`);
        return;
      }
      if (s.status === 'succeeded') {
        const d = s.details ?? {};
        const token = d.token ?? d.Token;
        const receipt = d.biller_Receipt ?? d.Telco_Reference;
        const t = await st.transition(orderId, 'fulfilled', why, {
          from: await this.stepStates(orderId, 'fulfil', 'fulfilling'),
          set: { ...(ref ? { fulfilRef: ref } : {}), ...(token ? { token } : {}), ...(receipt ? { receipt } : {}) },
        });
        if (t.ok) await this.payments.notify(orderId, 'receipt');
        return;
      }
      const order = await st.get(orderId);
      if (!order) return;
      if (order.state === 'fulfilled') {
        // A failure reported after the vend succeeded: a contradiction for a person.
        await this.toAttention(orderId, step, `the gateway reported the vend ${s.status} after it had succeeded (${source})`);
        return;
      }
      const reason = reasonOf(s);
      if (order.pay === 'checkout') {
        const t = await st.transition(orderId, 'refunding', why, {
          from: ['fulfilling'],
          set: { ...reason, refundAttempt: 1, ...(ref ? { fulfilRef: ref } : {}) },
        });
        if (t.ok) await this.payments.enqueue(orderId, 'refund1');
      } else {
        const t = await st.transition(orderId, 'failed', why, { from: ['fulfilling'], set: { ...reason, ...(ref ? { fulfilRef: ref } : {}) } });
        if (t.ok) await this.payments.notify(orderId, 'failed');
      }
      return;
    }
    if (step.startsWith('refund')) {
      if (s.status === 'succeeded') {
        const t = await st.transition(orderId, 'refunded', why, {
          from: await this.stepStates(orderId, step, 'refunding'),
          ...(ref ? { set: { refundRef: ref } } : {}),
        });
        if (t.ok) await this.payments.notify(orderId, 'refunded');
        return;
      }
      if (s.status === 'reversed') {
        await this.toAttention(orderId, step, `the refund was reversed by the gateway (${source})`);
        return;
      }
      // A failed refund: the next attempt goes out under a new reference (the old one is final).
      // The order's refundAttempt is the gate: only the write that moves it from n to n + 1
      // schedules refund n + 1, checked and written in one script. A repeat of this failure (its
      // IPN and a lookup, a retried job) finds it moved and schedules nothing; a handler that
      // died before that write left nothing behind, so reconciliation's re-drive of refund n
      // fails again and gets here; one that died after it left refund n + 1 to be re-driven.
      const n = Number(step.slice(6)) || 1;
      if (!cur || cur.state !== 'refunding' || (cur.refundAttempt ?? 1) !== n) return;
      // Every attempt shares refund1's budget (MONEY_RETRY_BUDGET_S): a payout that keeps
      // failing goes to a person, never retried forever.
      const budgetS = this.app.config.MONEY_RETRY_BUDGET_S;
      if (Date.now() - (await st.startClock(orderId, 'refund1')) > budgetS * 1000) {
        await this.toAttention(orderId, step, `refund still failing after ${budgetS} s (${n} attempts; last ${why})`, {}, undefined, ['refunding']);
        return;
      }
      const when = { state: 'refunding' as const, ...(cur.refundAttempt === undefined ? {} : { refundAttempt: n }) };
      if (await st.note(orderId, `${why}; refund${n + 1} scheduled`, { refundAttempt: n + 1 }, when))
        await this.payments.enqueue(orderId, `refund${n + 1}`, Math.min(this.app.config.RECONCILE_AFTER_S * 1000, 5_000 * n));
      return;
    }
    this.log.warn({ orderId, step }, 'settlement for an unknown step');
  }

  /**
   * A checkout's outcome. Money counts as paid only when the gateway's status lookup says so and
   * the payment matches the order; the checkout's own answer or an IPN saying "success" only
   * makes us look.
   */
  private async settleCheckout(orderId: string, s: Settlement, why: string): Promise<void> {
    const st = this.store;
    const order = await st.get(orderId);
    if (!order) return;
    if (s.status === 'succeeded' && !s.looked) {
      const info = await st.stepInfo(orderId, 'checkout');
      const l = await this.lookupStep(order, 'checkout', info.ref ?? s.gatewayRef);
      if (l.kind !== 'found') {
        await st.note(orderId, `${why}; the status lookup found nothing yet, so it is not taken as paid`);
        return;
      }
      return this.settleCheckout(orderId, this.fromUpdate(l.update, true), `status lookup: checkout ${l.update.status}`);
    }
    const ref = s.gatewayRef;
    if (s.status === 'succeeded') {
      const check = checkPayment(order, s.looked!, this.payments.gatewayFor('checkout').capabilities.amountBoundToReference);
      const paidWhy = `${PAID_CAUSE} (${why})`;
      if (order.state === 'cancelled' || order.state === 'failed') {
        await this.latePayment(order, order.state, paidWhy, check.ok ? check.paidMinor : check.paidMinor);
        return;
      }
      if (order.state !== 'awaiting_payment') return; // already settled by an earlier lookup
      if (check.ok) {
        const t = await st.transition(orderId, 'paid', `${paidWhy}: KES ${(check.paidMinor / 100).toFixed(2)}`, {
          from: ['awaiting_payment'],
          set: { paidMinor: check.paidMinor, ...(ref ? { checkoutRef: ref } : {}) },
        });
        if (t.ok) await this.payments.enqueue(orderId, 'fulfil');
        return;
      }
      // Paid, but not what was ordered: nothing is vended.
      const moved = await this.toAttention(
        orderId,
        'checkout',
        `payment does not match the order: ${check.reason}`,
        {
          ...(check.paidMinor !== undefined ? { paidMinor: check.paidMinor } : {}),
          reasonCode: check.code,
          ...(ref ? { checkoutRef: ref } : {}),
        },
        `${paidWhy}, but it does not match the order: ${check.reason}`,
      );
      if (moved && check.code === 'UNDERPAID' && check.paidMinor && check.paidMinor > 0) {
        // What was paid goes back, and the customer is told.
        const t = await st.transition(orderId, 'refunding', `underpaid: refunding the KES ${(check.paidMinor / 100).toFixed(2)} paid`, {
          from: ['needs_attention'],
          set: { refundMinor: check.paidMinor, refundAttempt: 1 },
        });
        if (t.ok) {
          await this.payments.notify(orderId, 'underpaid');
          await this.payments.enqueue(orderId, 'refund1');
        }
      }
      return;
    }
    if (s.status === 'reversed') {
      if (order.state === 'awaiting_payment') {
        const t = await st.transition(orderId, 'cancelled', why, { from: ['awaiting_payment'], set: { ...reasonOf(s), ...(ref ? { checkoutRef: ref } : {}) } });
        if (t.ok) await this.payments.notify(orderId, 'cancelled');
        return;
      }
      if (!SETTLED.has(order.state) || order.state === 'fulfilled') {
        await this.toAttention(orderId, 'checkout', `the payment was reversed by the gateway after it was confirmed (${why})`);
      }
      return;
    }
    // Failed or cancelled.
    if (order.state === 'awaiting_payment') {
      const to = s.status === 'cancelled' || /cancel/i.test(`${s.message ?? ''} ${s.details?.reason ?? ''}`) ? 'cancelled' : 'failed';
      const t = await st.transition(orderId, to, why, { from: ['awaiting_payment'], set: { ...reasonOf(s), ...(ref ? { checkoutRef: ref } : {}) } });
      if (t.ok) await this.payments.notify(orderId, 'cancelled');
      return;
    }
    if (s.looked && ['paid', 'fulfilling', 'fulfilled'].includes(order.state)) {
      // The gateway now says the payment failed, after its status said it was paid.
      await this.toAttention(orderId, 'checkout', `the gateway's status now says the payment ${s.status} after it was confirmed (${why})`);
    }
  }

  /** Money came in for an order the subscriber was told had failed: give it back, do not vend. */
  private async latePayment(order: Order, closed: 'cancelled' | 'failed', why: string, paidMinor: number | undefined): Promise<void> {
    if (order.pay !== 'checkout') return;
    this.log.warn({ orderId: order.id, closed }, 'payment confirmed after the order was closed; refunding');
    // One move, closed → refunding, whose cause begins with PAID_CAUSE (the payment is on
    // record): there is no moment at which the order is paid and could be vended.
    const r = await this.store.transition(
      order.id,
      'refunding',
      `${why} after the order was ${closed}; late payment: refund (the subscriber was told it did not go through)`,
      {
        from: [closed],
        set: { refundAttempt: 1, ...(paidMinor !== undefined ? { paidMinor, refundMinor: Math.min(paidMinor, order.amountMinor) } : {}) },
      },
    );
    if (r.ok) await this.payments.enqueue(order.id, 'refund1');
  }

  /**
   * The states a step's success may settle from: its own, or needs_attention when the order was
   * parked because this very step's outcome could not be found in time (a late IPN resolves it).
   */
  private async stepStates(orderId: string, step: Step, own: OrderState): Promise<OrderState[]> {
    const o = await this.store.get(orderId);
    return o?.state === 'needs_attention' && o.attentionStep === step && o.attentionFrom === own ? [own, 'needs_attention'] : [own];
  }

  /** Parks an order for a person. false when it was already settled or parked. */
  async toAttention(orderId: string, step: Step, reason: string, set: Partial<Order> = {}, cause = reason, onlyFrom?: readonly OrderState[]): Promise<boolean> {
    const order = await this.store.get(orderId);
    if (!order || !ATTENTION_FROM.includes(order.state) || (onlyFrom && !onlyFrom.includes(order.state))) return false;
    const t = await this.store.transition(orderId, 'needs_attention', cause, {
      from: [order.state],
      set: { ...set, attention: reason, attentionStep: step, attentionFrom: order.state },
    });
    if (!t.ok) return false;
    this.app.metrics.inc('orders_needs_attention_total', { step: step.replace(/\d+$/, '') }, 1, 'Orders parked for a person');
    this.log.error({ orderId, step, reason }, 'order needs attention');
    return true;
  }

  // ── IPNs: a reason to look ─────────────────────────────────────────
  async processIpn(ipnId: string): Promise<string> {
    const ipns = this.payments.ipns;
    const rec = await ipns.get(ipnId);
    if (!rec) return 'missing';
    if (rec.processedAt) return 'already processed';
    let target = parseRef(rec.reference);
    if (!target) target = parseRef((await this.store.byGatewayRef(rec.gateway, rec.gatewayRef)) ?? undefined);
    if (target?.step.startsWith('sms') || (!target && (isOwnSmsReference(rec.reference) || isOwnSmsReference(rec.gatewayRef)))) {
      // A notice about one of our own messages, not a payment: delivery counts, if any.
      const what = this.app.smsNotices ? await this.app.smsNotices.record(JSON.parse(rec.update) as TransactionUpdate, rec.event ?? '') : 'own SMS';
      await ipns.markProcessed(ipnId, `own SMS: ${what}`);
      return 'own sms';
    }
    const order = target ? await this.store.get(target.orderId) : undefined;
    if (!target || !order) {
      await ipns.markUnknown(ipnId);
      await ipns.markProcessed(ipnId, 'unknown reference');
      this.log.warn({ ipn: ipnId, gatewayRef: rec.gatewayRef }, 'IPN for an unknown reference kept for inspection');
      return 'unknown';
    }
    const step = target.step;
    const gw = this.payments.gatewayFor(step);
    if (gw.name !== rec.gateway) {
      await ipns.markProcessed(ipnId, `from ${rec.gateway}, but ${step} went to ${gw.name}: ignored`);
      return 'wrong gateway';
    }
    const info = await this.store.stepInfo(order.id, step);
    if (info.ref && rec.gatewayRef && info.ref !== rec.gatewayRef && rec.gatewayRef !== stepRef(order.id, step)) {
      this.log.warn(
        { orderId: order.id, step, ipnRef: rec.gatewayRef },
        'IPN names another gateway reference than the one the gateway gave us; looking up ours',
      );
    }
    // Whose reference to ask by: the one the gateway gave us; failing that, the IPN's own (the
    // record found must then name this step, or match it, before it counts).
    const askRef = info.ref ?? (rec.gatewayRef && rec.gatewayRef !== stepRef(order.id, step) ? rec.gatewayRef : undefined);
    const l = await this.lookupStep(order, step, askRef); // throws: the job retries
    if (l.kind !== 'found') {
      await this.store.note(order.id, `IPN ${rec.gatewayRef} said ${rec.status}; the status lookup found nothing`);
      await ipns.inconclusive(ipnId, `${order.id} ${step}: lookup found nothing`);
      return 'not found';
    }
    if (!info.ref && !(l.update.reference === stepRef(order.id, step)) && !this.matchesStep(order, step, l.update)) {
      await this.store.note(order.id, `IPN ${rec.gatewayRef}: the transaction it names does not match ${step}; ignored`);
      await ipns.markProcessed(ipnId, `${order.id} ${step}: not this order's transaction`);
      return 'not ours';
    }
    await this.settle(order.id, step, this.fromUpdate(l.update, true), `status lookup after IPN ${rec.gatewayRef} (${rec.status})`);
    if (l.update.status === 'pending') {
      await ipns.inconclusive(ipnId, `${order.id} ${step}: still pending at the gateway`);
      return 'pending';
    }
    await ipns.markProcessed(ipnId, `${order.id} ${step} ${l.update.status}`);
    return 'ok';
  }

  /** A transaction found by a reference only an IPN gave: is it plausibly this step's? */
  private matchesStep(order: Order, step: Step, u: TransactionUpdate): boolean {
    if (u.amountMinor === undefined) return false;
    const phone = (v: string | undefined) => {
      const p = v ? parsePhone(v) : undefined;
      return p?.ok ? p.e164 : undefined;
    };
    if (step === 'checkout') return u.amountMinor === order.amountMinor && (phone(u.source) ?? order.phone) === order.phone;
    if (step === 'fulfil') return u.amountMinor === order.amountMinor && (phone(u.destination) ?? order.recipient) === (order.recipient ?? order.phone);
    return u.amountMinor === (order.refundMinor ?? order.paidMinor ?? order.amountMinor) && (phone(u.destination) ?? order.phone) === order.phone;
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
      // Looked at: to the back of the queue if it is still open (a settled order was removed
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
    if (SETTLED.has(o.state)) return 'terminal';
    if (o.state === 'created') {
      // The handler stopped between creating and moving on: nothing was sent for it.
      const t = await this.store.transition(id, 'cancelled', 'reconcile: abandoned before payment was requested', { from: ['created'] });
      if (t.ok) await this.payments.notify(id, o.pay === 'float' ? 'failed' : 'cancelled');
      return 'abandoned';
    }
    if (o.state === 'paid') {
      await this.payments.redrive(id, 'fulfil');
      return 'fulfil redriven';
    }
    if (o.state === 'fulfilling' || o.state === 'refunding') {
      // The step's own job looks up before sending, holds what is unknown and parks it once its
      // budget is spent: make sure it runs.
      const step: Step = o.state === 'fulfilling' ? 'fulfil' : `refund${o.refundAttempt ?? 1}`;
      await this.payments.redrive(id, step);
      return `${step} redriven`;
    }
    // awaiting_payment: the IPN may never come; ask.
    const info = await this.store.stepInfo(id, 'checkout');
    const expireAfterMs = opts.expireAfterMs ?? this.checkoutExpiryMs;
    let found: Lookup | undefined;
    if (info.ref || info.sent) {
      found = await this.lookupStep(o, 'checkout', info.ref);
      if (found.kind === 'found' && found.update.status !== 'pending') {
        await this.settle(id, 'checkout', this.fromUpdate(found.update, true), 'reconcile lookup');
        return `settled ${found.update.status}`;
      }
    }
    // A checkout the subscriber never paid (prompt ignored, IPN never coming) or that never
    // reached the gateway must not wait forever, nor be sent as a late STK push: close it and
    // say so. A payment confirmed later is refunded (late payment). The clock runs from the
    // later of the order's last change and the last time the STK push left: a push held back
    // (a gateway outage, a Redis failover) gets its whole time on the handset, instead of being
    // closed by the first look after it finally went out (seen in the Sentinel failover test).
    if (Date.now() - Math.max(Date.parse(o.updatedAt), info.lastSentAt ?? 0) >= expireAfterMs) {
      const state = found?.kind === 'found' ? 'still pending' : info.sent ? 'not found' : 'never sent';
      const why = `reconcile: checkout expired (${state} after ${Math.round(expireAfterMs / 1000)} s)`;
      const t = await this.store.transition(id, 'cancelled', why, { from: ['awaiting_payment'], set: { reasonCode: 'CHECKOUT_EXPIRED' } });
      if (t.ok) await this.payments.notify(id, 'cancelled');
      return 'checkout expired';
    }
    if (found?.kind === 'found') return 'still pending';
    if (!info.sent || (found?.kind === 'not_found' && found.proof)) {
      // The gateway never received it: (re)send it. The step's own guard looks up again first.
      await this.payments.redrive(id, 'checkout');
      return 'checkout redriven';
    }
    return 'checkout unknown';
  }

  // ── the operator's queue ───────────────────────────────────────────
  /** Puts a needs_attention order back where it stopped, with a fresh budget, and runs its step. */
  async retry(id: string, who: string): Promise<{ ok: true; state: OrderState } | { ok: false; error: string }> {
    const o = await this.store.get(id);
    if (!o) return { ok: false, error: 'no such order' };
    if (o.state !== 'needs_attention') return { ok: false, error: `order is ${o.state}, not needs_attention` };
    const back = o.attentionFrom;
    const step = o.attentionStep ?? '';
    if (!back || !['awaiting_payment', 'paid', 'fulfilling', 'refunding'].includes(back)) {
      return { ok: false, error: `nothing to retry from ${back ?? 'an unknown state'}: close it with a reason` };
    }
    // The fresh budget first: a retry that died between the two would otherwise put the order
    // back with its spent budget, and its step would park it again at its first hold.
    await this.store.resetClock(id, step.startsWith('refund') ? 'refund1' : step);
    const t = await this.store.transition(id, back, `retried by ${who}`, { from: ['needs_attention'] });
    if (!t.ok) return { ok: false, error: `order moved meanwhile (${t.current})` };
    if (back === 'paid') await this.payments.redrive(id, 'fulfil');
    else if (back === 'awaiting_payment') await this.reconcileOne(id).catch(() => undefined);
    else await this.payments.redrive(id, back === 'fulfilling' ? 'fulfil' : `refund${o.refundAttempt ?? 1}`);
    return { ok: true, state: back };
  }

  async close(id: string, reason: string, who: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const t = await this.store.transition(id, 'closed', `closed by ${who}: ${reason}`, { from: ['needs_attention'] });
    if (t.ok) return { ok: true };
    return { ok: false, error: t.current ? `order is ${t.current}, not needs_attention` : 'no such order' };
  }
}

const GENERIC: UserMessage = { en: 'The service provider could not complete it.', sw: 'Mtoa huduma hakuweza kukamilisha.' };

/** What a screen or SMS may say about a failure: our client's user-safe text, never the gateway's raw text. */
function reasonOf(s: Settlement): { reason: string; reasonSw: string; reasonCode: string } {
  const m = s.userMessage ?? GENERIC;
  return { reason: m.en, reasonSw: m.sw, reasonCode: s.code ?? '' };
}
