// The checks after everything settled, over every order, every purchase the subscribers made
// and every entry of the sandbox gateway's ledger (docs/architecture.md, "The reply and the
// money" and "The invariants"):
//  - the money invariants of src/payments/invariants.ts;
//  - paid per the gateway's own ledger ⇒ the order ended fulfilled, refunded or needs_attention;
//  - no vend for an order whose confirmed payment was not its amount;
//  - nothing paid out or sent twice (one successful payout, one SMS per order notice);
//  - what the subscriber was last told agrees with what happened, and every SMS promised was sent.
import { checkInvariants, type LedgerLike } from '../../../src/payments/invariants.js';
import { noticeOf } from '../../../src/payments/flows.js';
import { parseRef } from '../../../src/payments/ids.js';
import type { OrderStore } from '../../../src/payments/order-store.js';
import type { HistoryEntry, Order } from '../../../src/payments/types.js';
import type { Purchase } from './purchases.js';
import { told } from './ussd-wire.js';

export interface Entry extends LedgerLike {
  at: string;
  final?: string;
  body?: Record<string, unknown>;
}
export interface Violation {
  orderId?: string;
  purchase?: number;
  what: string;
}
export interface Loaded {
  order: Order;
  history: HistoryEntry[];
}

const VENDS = new Set(['airtime', 'pin-airtime', 'bill']);

export async function loadOrders(store: OrderStore): Promise<Map<string, Loaded>> {
  const out = new Map<string, Loaded>();
  for (const id of await store.ids()) {
    const order = await store.get(id);
    if (order) out.set(id, { order, history: await store.history(id) });
  }
  return out;
}

/** Counted apart from violations: what the summary reports so nobody mistakes it for silence. */
export interface Notes {
  /** Orders whose SMS the gateway refused or left unknown (the service counts those as sent). */
  unconfirmed: string[];
  /** Orders whose subscriber was last told "try again" and whose own SMS then told the truth. */
  corrected: string[];
  /** Purchases whose repeated request got another screen (no money at stake) / another money answer. */
  screenRepeats: number[];
  moneyRepeats: number[];
}

export async function check(store: OrderStore, orders: Map<string, Loaded>, ledger: Entry[], purchases: Purchase[], notes: Notes): Promise<Violation[]> {
  const { unconfirmed, corrected, screenRepeats, moneyRepeats } = notes;
  const v: Violation[] = [];
  for (const p of await checkInvariants(store, ledger)) v.push({ orderId: /order (K\w+)/.exec(p)?.[1], what: p });

  const byOrder = new Map<string, Entry[]>();
  for (const e of ledger) {
    const r = parseRef(e.reference);
    if (!r) continue;
    const list = byOrder.get(r.orderId) ?? [];
    list.push(e);
    byOrder.set(r.orderId, list);
  }
  const smsRefs = new Map<string, number>();
  for (const e of ledger) if (e.endpoint === 'sms' && e.reference) smsRefs.set(e.reference, (smsRefs.get(e.reference) ?? 0) + 1);
  for (const [ref, n] of smsRefs) if (n > 1 && !ref.startsWith('late-')) v.push({ orderId: parseRef(ref)?.orderId, what: `SMS ${ref} sent ${n} times` });

  for (const [id, { order, history }] of orders) {
    const entries = byOrder.get(id) ?? [];
    const gatewayPaid = entries.some((e) => e.endpoint === 'checkout' && e.final === 'Success');
    if (gatewayPaid && !['fulfilled', 'refunded', 'needs_attention', 'closed'].includes(order.state)) {
      v.push({ orderId: id, what: `paid per the gateway's ledger but ${order.state}` });
    }
    const vended = entries.some((e) => VENDS.has(e.endpoint));
    if (vended && order.pay === 'checkout' && order.paidMinor !== undefined && order.paidMinor !== order.amountMinor) {
      v.push({ orderId: id, what: `vended though ${order.paidMinor} was paid for ${order.amountMinor}` });
    }
    const payouts = entries.filter((e) => e.endpoint === 'mobile-payout' && (e.final ?? e.status) === 'Success');
    if (payouts.length > 1) v.push({ orderId: id, what: `${payouts.length} successful payouts` });
    const notice = noticeOf(order);
    const noticeOk = !notice || smsRefs.has(`${id}-sms${notice}`);
    // The service counts an SMS whose outcome is unknown as sent (better a missing receipt than
    // a doubled one), and a number the gateway refuses outright cannot be helped: counted apart.
    const excused = notice && history.some((h) => h.cause.startsWith(`sms ${notice} sent (outcome unknown)`) || h.cause.startsWith(`sms ${notice} not sent:`));
    if (!noticeOk && excused) unconfirmed.push(id);
    else if (!noticeOk) v.push({ orderId: id, what: `${order.state} but its ${notice} SMS was never sent` });
    if (order.state !== 'needs_attention' && !history.length) v.push({ orderId: id, what: 'no history' });
  }

  const bySession = new Map<string, Loaded[]>();
  for (const o of orders.values()) if (o.order.session) bySession.set(o.order.session, [...(bySession.get(o.order.session) ?? []), o]);
  const lateSms = ledger.filter((e) => e.endpoint === 'sms' && e.reference?.startsWith('late-'));
  for (const p of purchases) {
    const mine = bySession.get(p.sessionId) ?? [];
    const o = mine[0];
    const at = { purchase: p.n, ...(o ? { orderId: o.order.id } : {}) };
    if (mine.length > 1) v.push({ ...at, what: `one session, ${mine.length} orders` });
    if (p.repeatMismatch) {
      // Screens differing is no money matter (a hop answered "try again" while Redis stalled,
      // then saved its real screen late); a repeat that says otherwise about money is, unless
      // the order's own SMS corrects it (checked below with the last reply).
      const money = (x: string) => ['prompt', 'processing', 'float_ok', 'failed', 'cancelled'].includes(told(x));
      if (money(p.repeatMismatch.first) || money(p.repeatMismatch.again)) moneyRepeats.push(p.n);
      else screenRepeats.push(p.n);
    }
    const moved =
      o &&
      (o.history.some((h) => ['paid', 'fulfilled', 'fulfilling'].includes(h.to)) ||
        (byOrder.get(o.order.id) ?? []).some((e) => e.endpoint === 'checkout' || VENDS.has(e.endpoint)));
    switch (p.lastTold) {
      case 'cancelled':
        if (o) v.push({ ...at, what: `told "cancelled" but order ${o.order.id} exists (${o.order.state})` });
        break;
      case 'failed':
      case 'try_again':
        // A repeat that could not reach Redis in time answers "try again" though the original
        // request committed; then the order's own SMS (receipt, cancellation) must correct it.
        if (moved && !['failed', 'refunded', 'cancelled'].includes(o.order.state)) {
          const notice = noticeOf(o.order);
          const sms = notice ? ledger.find((e) => e.endpoint === 'sms' && e.reference === `${o.order.id}-sms${notice}`) : undefined;
          if (sms && Date.parse(sms.at) >= p.lastAt - 1000) corrected.push(o.order.id);
          else
            v.push({
              ...at,
              what: `told "${p.lastTold}" (${p.last}) but the order went on to ${o.order.state}${sms ? ' (its SMS came before)' : ', and no SMS corrected it'}`,
            });
        }
        break;
      case 'prompt':
        if (!o) v.push({ ...at, what: 'told a payment prompt follows, but no order exists' });
        break;
      case 'float_ok':
        if (!o || o.order.state !== 'fulfilled') v.push({ ...at, what: `told the sale went through, but the order is ${o?.order.state ?? 'missing'}` });
        break;
      case 'processing':
        // The promised SMS: the order's own notice, or the hop's late outcome.
        if (!o && !lateSms.some((e) => Date.parse(e.at) >= p.lastAt - 10_000 && JSON.stringify(e.body ?? {}).includes(p.phone.replace('+254', '')))) {
          v.push({ ...at, what: `told "you will receive an SMS" but no SMS followed (${p.phone})` });
        }
        break;
      default:
    }
  }
  return v;
}

/** Purchases by what they became: the order's final state, else what the handset last showed. */
export function outcomes(orders: Map<string, Loaded>, purchases: Purchase[]): Record<string, number> {
  const bySession = new Map<string, Order>();
  for (const o of orders.values()) if (o.order.session) bySession.set(o.order.session, o.order);
  const out: Record<string, number> = {};
  for (const p of purchases) {
    const o = bySession.get(p.sessionId);
    const k = o ? `order ${o.state}` : `no order (${p.lastTold})`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
