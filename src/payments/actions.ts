// The menu actions that move money: airtime, bundle, paybill, checkout (pay merchant), balance.
// pay=checkout: create the order and answer at once; the checkout job runs after the END reply.
// pay=float: the agent's PIN, then the vend as a job whose result is awaited until the deadline.
import type { AppContext } from '../app-context.js';
import type { ActionContext, ActionResult } from '../ussd/actions.js';
import type { UserMessage } from '../gateway/types.js';
import { parsePhone } from '../lib/phone.js';
import { maskPhone } from '../log.js';
import type { AgentStore } from '../agents/store.js';
import { airtimeTelco, BILLER_ACCOUNT, BILLER_NAME, BUNDLES, formatToken, isBiller, LIMITS } from './catalog.js';
import type { Payments } from './flows.js';
import { orderIdFor, stepRef } from './ids.js';
import { PIN_CAUSE } from './invariants.js';
import { TERMINAL, type Order, type OrderKind } from './types.js';
import { lateSmsSender } from '../ussd/late-sms.js';

type Draft = Omit<Order, 'state' | 'createdAt' | 'updatedAt'>;

const R = {
  amount: { en: 'Enter a valid amount.', sw: 'Weka kiasi sahihi.' },
  whole: { en: 'Amount must be whole shillings.', sw: 'Kiasi lazima kiwe shilingi kamili.' },
  phone: { en: 'That phone number cannot receive airtime.', sw: 'Nambari hiyo haiwezi kupokea salio.' },
  bundle: { en: 'That bundle is not available.', sw: 'Kifurushi hicho hakipatikani.' },
  account: { en: 'That account number is not valid for this biller.', sw: 'Nambari ya akaunti si sahihi kwa mtoa huduma huyu.' },
  merchant: { en: 'Enter a valid merchant number.', sw: 'Weka nambari sahihi ya mfanyabiashara.' },
  busy: { en: 'Please try again shortly.', sw: 'Tafadhali jaribu tena baadaye.' },
} satisfies Record<string, UserMessage>;

const fail = (reason: UserMessage): ActionResult => ({ outcome: 'failure', reason });

function amountOf(v: string | undefined): number | undefined {
  if (!v || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The order a confirming screen describes, or a user-safe reason it cannot be one. */
export function draftOrder(kind: OrderKind, ctx: ActionContext): Draft | UserMessage {
  const v = ctx.values;
  const pay = ctx.params.pay === 'float' ? 'float' : 'checkout';
  const base = { id: orderIdFor(ctx.idempotencyKey), idem: ctx.idempotencyKey, session: ctx.sessionId, kind, pay, phone: ctx.phone, lang: ctx.lang } as const;
  let amountMinor = amountOf(v.amount);
  if (kind === 'bundle') {
    const price = v.bundle !== undefined ? BUNDLES[v.bundle] : undefined;
    if (price === undefined) return R.bundle;
    // The menu sets amount with the bundle; the catalogue price is what is charged.
    if (amountMinor !== undefined && amountMinor !== price) return R.bundle;
    amountMinor = price;
  }
  if (amountMinor === undefined) return R.amount;
  if (amountMinor % 100 !== 0) return R.whole; // Kyanda takes whole KES only
  if (kind === 'airtime' || kind === 'bundle') {
    const to = parsePhone(v.recipient ?? ctx.phone);
    if (!to.ok) return R.phone;
    if (kind === 'airtime') {
      if (amountMinor < LIMITS.airtime.min || amountMinor > LIMITS.airtime.max) return R.amount;
      const self = to.e164 === ctx.phone;
      const t = airtimeTelco(to.telco, ctx.networkCode, self);
      if (!t.telco) return R.phone;
      if (t.mismatch)
        ctx.logger.info({ recipient: maskPhone(to.e164), prefix: to.telco, networkCode: ctx.networkCode }, 'airtime telco from networkCode (number ported?)');
      return { ...base, amountMinor, recipient: to.e164, telco: t.telco };
    }
    return { ...base, amountMinor, recipient: to.e164, telco: 'FAIBA_B', productCode: v.bundle!, bundleName: v.bundle_name ?? v.bundle! };
  }
  if (kind === 'bill') {
    if (!isBiller(v.biller)) return R.account;
    if (!BILLER_ACCOUNT[v.biller].test(v.account ?? '')) return R.account;
    if (amountMinor < LIMITS.bill.min || amountMinor > LIMITS.bill.max) return R.amount;
    return { ...base, amountMinor, biller: v.biller, account: v.account! };
  }
  const merchant = v.merchant ?? '';
  if (!/^[A-Za-z0-9]{3,20}$/.test(merchant)) return R.merchant;
  if (amountMinor < LIMITS.merchant.min || amountMinor > LIMITS.merchant.max) return R.amount;
  return { ...base, amountMinor, merchant };
}

/** Vars in the menu's conventions: amount in minor units and recipient E.164 (the menu formats them). */
function screenVars(o: Order): Record<string, string> {
  return {
    ref: o.id,
    amount: String(o.amountMinor),
    ...(o.recipient ? { recipient: o.recipient } : {}),
    ...(o.biller ? { biller_name: BILLER_NAME[o.biller] } : {}),
    token: o.token ? formatToken(o.token) : (o.receipt ?? ''),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function paymentActions(app: Pick<AppContext, 'config' | 'gateways' | 'logger' | 'metrics'>, payments: Payments, agents: AgentStore) {
  const store = payments.store;
  const lateSms = lateSmsSender(app);

  /**
   * created → awaiting_payment and the checkout job. Also run for an order a previous run of this
   * step created and then died on (same idempotency key): otherwise it would sit in `created`
   * until reconciliation closed it, though the subscriber was promised a prompt.
   */
  async function requestPayment(id: string, cause: string): Promise<void> {
    const t = await store.transition(id, 'awaiting_payment', cause, { from: ['created'] });
    // Durable: queued now (delayed), run as soon as the END reply is sent: an STK push cannot
    // show while the USSD session is still open on the handset.
    if (t.ok) await payments.enqueue(id, 'checkout', app.config.CHECKOUT_DELAY_MS);
  }

  /** created → fulfilling and the vend job. A float order exists only once its agent's PIN was verified. */
  async function vendFromFloat(id: string, cause: string): Promise<void> {
    const t = await store.transition(id, 'fulfilling', cause, { from: ['created'] });
    if (t.ok) await payments.enqueue(id, 'fulfil');
  }

  async function checkoutFlow(ctx: ActionContext, draft: Draft): Promise<ActionResult> {
    // The commit point: from here the subscriber is told a prompt (or an SMS) follows.
    if (!ctx.commit()) return fail(R.busy);
    const created = await store.create(draft, `${ctx.action} confirmed by ${maskPhone(ctx.phone)} (session ${ctx.sessionId})`);
    if (created) {
      await requestPayment(draft.id, 'checkout scheduled after the USSD reply');
      app.metrics.inc('orders_created_total', { kind: draft.kind, pay: 'checkout' }, 1, 'Orders created');
    }
    const jobId = stepRef(draft.id, 'checkout');
    ctx.afterReply(() => payments.jobs.promote(jobId));
    const o = (await store.get(draft.id))!;
    return { outcome: 'success', vars: screenVars(o) };
  }

  /** Waits for a float order to finish until the screen deadline. */
  async function awaitOrder(id: string, signal: AbortSignal): Promise<Order | undefined> {
    for (let wait = 20; !signal.aborted; wait = Math.min(wait * 2, 100)) {
      const o = await store.get(id);
      if (o && TERMINAL.has(o.state)) return o;
      await sleep(wait);
    }
    return undefined;
  }

  async function floatFlow(ctx: ActionContext, draft: Draft | undefined, existing: Order | undefined): Promise<ActionResult> {
    let id = existing?.id;
    if (!existing) {
      const d = draft!;
      const pin = await agents.checkPin(ctx.phone, ctx.values.pin ?? '');
      if (!pin.ok) {
        if (pin.why === 'wrong_pin') return { outcome: 'wrong_pin', vars: { tries_left: String(pin.triesLeft) } };
        if (pin.why === 'locked') return { outcome: 'locked', vars: { minutes: String(pin.minutes) } };
        return { outcome: 'not_agent' };
      }
      if (!ctx.commit()) return fail(R.busy);
      if (await store.create(d, `${ctx.action} from float by agent ${maskPhone(ctx.phone)} (session ${ctx.sessionId})`)) {
        await vendFromFloat(d.id, `${PIN_CAUSE}: vend from float`);
        app.metrics.inc('orders_created_total', { kind: d.kind, pay: 'float' }, 1, 'Orders created');
      }
      id = d.id;
    }
    const o = await awaitOrder(id!, ctx.signal);
    if (!o) return { outcome: 'processing' };
    if (o.state === 'fulfilled') return { outcome: 'success', vars: screenVars(o) };
    return { outcome: 'failure', reason: { en: o.reason ?? R.busy.en, sw: o.reasonSw ?? R.busy.sw } };
  }

  /**
   * Past its commit point a money action that fails to answer (Redis stalled while it waited
   * for the order, a reply lost) may well have queued the order and its step for good: "failed,
   * try again" could then be false, and an agent told so would sell again. It answers what is
   * true either way, "processing, you will receive an SMS", and keeps that promise: the order's
   * own flow sends its SMS (reconciliation settles one left half-made); when no order exists once
   * Redis answers again, an SMS says it could not be completed.
   */
  function honestAfterCommit(inner: (ctx: ActionContext) => Promise<ActionResult>) {
    return async (ctx: ActionContext): Promise<ActionResult> => {
      let committed = false;
      try {
        return await inner({ ...ctx, commit: () => (committed = ctx.commit()) });
      } catch (err) {
        if (!committed) throw err;
        ctx.logger.warn(
          { action: ctx.action, sessionId: ctx.sessionId, err: (err as Error).message },
          'money action failed after its commit point; answering processing',
        );
        followUp(orderIdFor(ctx.idempotencyKey), ctx.phone, ctx.lang);
        return { outcome: 'processing' };
      }
    };
  }

  function followUp(id: string, phone: string, lang: string): void {
    void (async () => {
      for (let attempt = 0; attempt < 12; attempt++) {
        await sleep(250 * 2 ** Math.min(attempt, 6));
        try {
          if (await store.get(id)) return; // its flow (or reconciliation) sends the SMS
          const text =
            lang === 'sw' ? 'Samahani, ombi lako halikukamilika. Tafadhali jaribu tena.' : 'Sorry, your request could not be completed. Please try again.';
          lateSms(phone, text, `late-${id}`);
          return;
        } catch {
          /* Redis still away */
        }
      }
      app.logger.error({ orderId: id, phone: maskPhone(phone) }, 'after a failed money action, could not tell whether its order exists');
    })();
  }

  function money(kind: OrderKind) {
    return honestAfterCommit(async (ctx: ActionContext): Promise<ActionResult> => {
      const existing = await store.get(orderIdFor(ctx.idempotencyKey));
      const float = ctx.params.pay === 'float';
      if (existing) {
        // The same confirming request again (aggregator retry, or a restarted hop): same order,
        // already committed to by the hop that created it.
        ctx.commit();
        if (existing.state === 'created') {
          // The first run died between creating the order and moving it on: finish that step.
          if (existing.pay === 'float') await vendFromFloat(existing.id, `${PIN_CAUSE} (before a restart): vend from float, resumed`);
          else await requestPayment(existing.id, 'checkout scheduled after the USSD reply (resumed)');
        }
        if (existing.pay === 'float') return floatFlow(ctx, undefined, existing);
        ctx.afterReply(() => payments.jobs.promote(stepRef(existing.id, 'checkout')));
        return { outcome: 'success', vars: screenVars(existing) };
      }
      const draft = draftOrder(kind, ctx);
      if (!('id' in draft)) return fail(draft);
      return float ? floatFlow(ctx, draft, undefined) : checkoutFlow(ctx, draft);
    });
  }

  async function balance(ctx: ActionContext): Promise<ActionResult> {
    const pin = await agents.checkPin(ctx.phone, ctx.values.pin ?? '');
    if (!pin.ok) {
      if (pin.why === 'wrong_pin') return { outcome: 'wrong_pin', vars: { tries_left: String(pin.triesLeft) } };
      if (pin.why === 'locked') return { outcome: 'locked', vars: { minutes: String(pin.minutes) } };
      return { outcome: 'not_agent' };
    }
    const b = await app.gateways.fulfil.balance();
    const fmt = (minor: number) => (minor / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return { outcome: 'success', vars: { float: fmt(b.floatMinor), earnings: fmt(b.earningsMinor) } };
  }

  return {
    airtime: money('airtime'),
    bundle: money('bundle'),
    paybill: money('bill'),
    checkout: money('merchant'),
    balance,
  };
}
