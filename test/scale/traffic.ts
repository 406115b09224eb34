// Subscribers dialling both instances in turn while something happens to Redis or to an
// instance (a failover, a rolling restart). Every hop is recorded; afterwards the checks say
// whether each was answered, what each promised and whether the money kept its promises.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { post } from '../support/ussd.js';
import { ledger, smsLog, waitSms, waitState, type Svc } from '../payments/support.js';
import { checkInvariants } from '../../src/payments/invariants.js';
import type { OrderStore } from '../../src/payments/order-store.js';

export interface HopRecord {
  url: string;
  sessionId: string;
  text: string;
  status: number;
  body: string;
  at: number;
  ms: number;
  error?: string;
}

export interface Traffic {
  hops: HopRecord[];
  /**
   * Sessions whose confirming hop made a promise, each with its phone: `prompt` (an M-PESA
   * prompt follows: the order must complete) or `sms` ("we are processing your request, you will
   * receive an SMS": the hop committed but could not finish, e.g. Redis failing over; the order
   * must settle one way or the other and the phone get its SMS).
   */
  promised: Array<{ sid: string; phone: string; kind: 'prompt' | 'sms' }>;
  stop(): Promise<void>;
}

const PROMISE = /^END (You will receive an M-PESA prompt|We are processing your request)/;
/** The SMS that keeps a "processing" promise whose order never came to exist (src/payments/actions.ts, followUp). */
const NOT_COMPLETED = /^Sorry, your request could not be completed/;

/**
 * `subscribers` loops, each a phone of its own: dial, airtime, my number, KES 10, and every
 * third session confirm (a purchase); the others walk away at the confirming screen. `urls()`
 * picks the instances to use for each hop (a load balancer's current view).
 */
export function startTraffic(urls: () => string[], subscribers = 6, pauseMs = 30): Traffic {
  const hops: HopRecord[] = [];
  const promised: Traffic['promised'] = [];
  let running = true;
  let turn = 0;
  async function subscriber(i: number): Promise<void> {
    for (let session = 0; running; session++) {
      // A phone per session: a dropped session would otherwise be offered again to its phone.
      const phone = `+25471${String(i).padStart(2, '0')}${String(session).padStart(5, '0')}`;
      const sid = `ATUid_${randomUUID()}`;
      const steps = ['', '1', '1*1', '1*1*10', ...(session % 3 === 2 ? ['1*1*10*1'] : [])];
      for (const text of steps) {
        if (!running && text !== '1*1*10*1') break;
        const pool = urls();
        const url = pool[turn++ % pool.length]!;
        const t0 = Date.now();
        let rec: HopRecord;
        try {
          const r = await post(url, { sessionId: sid, phoneNumber: phone, text });
          rec = { url, sessionId: sid, text, status: r.status, body: r.body, at: t0, ms: Date.now() - t0 };
        } catch (err) {
          rec = { url, sessionId: sid, text, status: 0, body: '', at: t0, ms: Date.now() - t0, error: (err as Error).message };
        }
        hops.push(rec);
        if (text === '1*1*10*1' && PROMISE.test(rec.body)) promised.push({ sid, phone, kind: rec.body.includes('M-PESA prompt') ? 'prompt' : 'sms' });
        if (!rec.body.startsWith('CON ')) break; // an END (polite or not) ends the session
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
  }
  const loops = Array.from({ length: subscribers }, (_, i) => subscriber(i));
  return {
    hops,
    promised,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Every hop got an answer: HTTP 200 with CON or END, well within the aggregator's 5 s. */
export function assertAllAnswered(t: Traffic, deadlineMs = 5000): { politeEnds: number; hops: number; politeSpanMs: [number, number] } {
  assert.ok(t.hops.length > 0, 'traffic ran');
  const bad = t.hops.filter((h) => h.status !== 200 || !/^(CON|END) /.test(h.body) || h.ms > deadlineMs);
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${t.hops.length} hops unanswered or late`);
  const polite = t.hops.filter((h) => /^END Service temporarily unavailable/.test(h.body));
  return { politeEnds: polite.length, hops: t.hops.length, politeSpanMs: [polite[0]?.at ?? 0, polite.at(-1)?.at ?? 0] };
}

/** Every promised order exists and settles; the money invariant holds over all of them. */
export async function assertMoneyKept(t: Traffic, svc: Svc, store: OrderStore, settleMs = 30_000): Promise<number> {
  const bySession = new Map<string, string>();
  const until = Date.now() + settleMs;
  promises: for (const { sid, phone, kind } of t.promised) {
    for (;;) {
      if (bySession.size === 0 || !bySession.has(sid)) {
        for (const id of await store.ids()) {
          const o = await store.get(id);
          if (o?.session) bySession.set(o.session, o.id);
        }
      }
      if (bySession.has(sid)) break;
      // "You will receive an SMS" from a hop whose order was never written (Redis failed under
      // it after its commit point): src/payments/actions.ts looks once Redis answers and, finding
      // no order, keeps the promise with an SMS saying the request could not be completed. The
      // phone is this session's alone, so that SMS is this promise's.
      if (kind === 'sms' && (await smsLog(svc)).some((m) => m.recipients.includes(phone) && NOT_COMPLETED.test(m.message))) {
        continue promises;
      }
      assert.ok(Date.now() < until, `no order for promised session ${sid}: an order was lost`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const o = await waitState(svc, bySession.get(sid)!, 'terminal', Math.max(1000, until - Date.now()));
    if (kind === 'prompt' && o.state !== 'fulfilled') {
      // The failover struck between the reply and the checkout leaving: the prompt never went
      // out, and a late STK push is never sent, so the order is closed and the subscriber told by
      // SMS. No money moved; anything else is a broken promise.
      const h = await store.history(o.id);
      const why = `order ${o.id}: ${h.map((e) => `${e.to}:${e.cause}`).join(' | ')}`;
      assert.equal(o.state, 'cancelled', why);
      assert.ok(
        h.some((e) => /checkout expired \(never sent/.test(e.cause)),
        why,
      );
      await waitSms(svc, phone, new RegExp(o.id), Math.max(1000, until - Date.now()));
    } else if (kind !== 'prompt') await waitSms(svc, phone, new RegExp(o.id), Math.max(1000, until - Date.now()));
  }
  const problems = await checkInvariants(store, await ledger(svc));
  assert.deepEqual(problems, []);
  return t.promised.length;
}
