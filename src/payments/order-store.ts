// Orders in Redis: one hash per order, its history as a list, and indexes (all orders, open ones
// for reconciliation, one set per state, one per phone). Every state change is one Lua script
// that compares the current state and writes state, fields, history and indexes together, so
// two workers (or a worker and an IPN) can never both move an order.
//
// Each money step (checkout, fulfil, refundN) also keeps, in the order's hash:
//   s.<step>.ref    the gateway's own reference, stored from the first answer that carries it,
//                   before anything else is done with that answer (the only reference a status
//                   lookup is sure to know; docs/gateways.md, "Whose reference");
//   s.<step>.sent   set before a request leaves: from then on the step may have reached the
//                   gateway, so it is looked up, never blindly sent again;
//   s.<step>.since  when the step was first tried: its retry budget runs from here.
import type { Redis } from '../redis.js';
import { loadLua } from '../lib/lua.js';
import { keyNames, type KeyFn, type KeyNames } from '../keys.js';
import { SETTLED, TRANSITIONS, type HistoryEntry, type Order, type OrderState } from './types.js';

// The scripts (lua/): create an order with its indexes, move it between states (the state
// check and every write in one step), note something in its history.
const CREATE = loadLua(import.meta.url, 'order-create');
const TRANSITION = loadLua(import.meta.url, 'order-transition');
const NOTE = loadLua(import.meta.url, 'order-note');

interface OrderRedis extends Redis {
  orderCreate(...args: string[]): Promise<number>;
  /** Variadic: the key count comes first (TRANSITION's fixed keys + one per `from` state). */
  orderTransition(numberOfKeys: number, ...args: string[]): Promise<[number, string]>;
  orderNote(...args: string[]): Promise<number>;
}

export type TransitionResult = { ok: true; from: OrderState } | { ok: false; current: OrderState | undefined };

type Fields = Partial<Omit<Order, 'id' | 'state' | 'createdAt' | 'updatedAt'>>;

export interface StepInfo {
  /** The gateway's reference for this step, once an answer carried one. */
  ref?: string;
  /** An attempt may have reached the gateway. */
  sent: boolean;
  /** When the step was first tried (ms). */
  since?: number;
  /** When a request for the step last left (ms): a checkout's STK push reached the phone then. */
  lastSentAt?: number;
}

function flat(fields: Fields): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) out.push(k, String(v));
  return out;
}

const NUMERIC = new Set(['amountMinor', 'refundAttempt', 'paidMinor', 'refundMinor']);

function toOrder(h: Record<string, string>): Order | undefined {
  if (!h.id) return undefined;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith('s.')) continue; // step bookkeeping: stepInfo()
    o[k] = NUMERIC.has(k) ? Number(v) : v;
  }
  return o as unknown as Order;
}

const ALL_STATES = Object.keys(TRANSITIONS) as OrderState[];

export class OrderStore {
  private readonly redis: OrderRedis;
  private readonly names: KeyNames['orders'];

  constructor(redis: Redis, key: KeyFn) {
    this.redis = redis as OrderRedis;
    this.names = keyNames(key).orders;
    // defineCommand uses EVALSHA with an EVAL fallback, so each script is sent once per connection.
    if (typeof this.redis.orderCreate !== 'function') {
      this.redis.defineCommand('orderCreate', { numberOfKeys: CREATE.numberOfKeys, lua: CREATE.source });
      this.redis.defineCommand('orderTransition', { lua: TRANSITION.source });
      this.redis.defineCommand('orderNote', { numberOfKeys: NOTE.numberOfKeys, lua: NOTE.source });
    }
  }

  private k(id: string) {
    return { order: this.names.order(id), hist: this.names.history(id), open: this.names.open(), all: this.names.all() };
  }

  private stateKey(state: OrderState): string {
    return this.names.byState(state);
  }

  private phoneKey(phone: string): string {
    return this.names.byPhone(phone);
  }

  /** Creates the order if absent (atomic). false: it already existed (a repeated request). */
  async create(o: Omit<Order, 'state' | 'createdAt' | 'updatedAt'>, cause: string): Promise<boolean> {
    const now = new Date();
    const k = this.k(o.id);
    const first: HistoryEntry = { at: now.toISOString(), from: '', to: 'created', cause };
    const fields = flat({ ...o, state: 'created', createdAt: now.toISOString(), updatedAt: now.toISOString() } as Fields);
    const r = await this.redis.orderCreate(
      k.order,
      k.hist,
      k.all,
      k.open,
      this.stateKey('created'),
      this.phoneKey(o.phone),
      JSON.stringify(first),
      String(now.getTime()),
      o.id,
      ...fields,
    );
    return r === 1;
  }

  async get(id: string): Promise<Order | undefined> {
    return toOrder(await this.redis.hgetall(this.k(id).order));
  }

  async history(id: string): Promise<HistoryEntry[]> {
    return (await this.redis.lrange(this.k(id).hist, 0, -1)).map((s) => JSON.parse(s) as HistoryEntry);
  }

  /**
   * Moves the order to `to` if it is in one of `from` (default: every state allowed to move to
   * `to`). The check and the write are one script: exactly one caller wins.
   */
  async transition(id: string, to: OrderState, cause: string, opts: { from?: OrderState[]; set?: Fields } = {}): Promise<TransitionResult> {
    const allowed = ALL_STATES.filter((s) => TRANSITIONS[s].includes(to));
    const from = opts.from ? opts.from.filter((s) => allowed.includes(s)) : allowed;
    if (from.length === 0) throw new Error(`no state may move to ${to}`);
    const now = new Date();
    const k = this.k(id);
    const [ok, cur] = await this.redis.orderTransition(
      TRANSITION.numberOfKeys + from.length,
      k.order,
      k.hist,
      k.open,
      this.stateKey(to),
      ...from.map((s) => this.stateKey(s)),
      from.join(','),
      to,
      cause,
      now.toISOString(),
      String(now.getTime()),
      SETTLED.has(to) ? '1' : '0',
      id,
      ...flat(opts.set ?? {}),
    );
    return ok === 1 ? { ok: true, from: cur as OrderState } : { ok: false, current: (cur || undefined) as OrderState | undefined };
  }

  /**
   * Records fields and a history line without changing the state; with `when`, only while every
   * field named there (`state` included) still holds that value, checked and written in one
   * script. False when nothing was written.
   */
  async note(id: string, cause: string, set: Fields = {}, when: Fields & { state?: OrderState } = {}): Promise<boolean> {
    const k = this.k(id);
    const guard = flat(when);
    return (await this.redis.orderNote(k.order, k.hist, cause, new Date().toISOString(), String(guard.length / 2), ...guard, ...flat(set))) === 1;
  }

  // ── money steps ────────────────────────────────────────────────────
  async stepInfo(id: string, step: string): Promise<StepInfo> {
    const [ref, sent, since, at] = await this.redis.hmget(this.k(id).order, `s.${step}.ref`, `s.${step}.sent`, `s.${step}.since`, `s.${step}.at`);
    return { ...(ref ? { ref } : {}), sent: sent === '1', ...(since ? { since: Number(since) } : {}), ...(at ? { lastSentAt: Number(at) } : {}) };
  }

  /** Before a request for the step leaves: it may reach the gateway from now on. Starts the budget clock. */
  async markSent(id: string, step: string): Promise<void> {
    const key = this.k(id).order;
    const now = String(Date.now());
    await this.redis.multi().hset(key, `s.${step}.sent`, '1', `s.${step}.at`, now).hsetnx(key, `s.${step}.since`, now).exec();
  }

  /** The request was answered "not done" (or never left): the step may be sent again. */
  async clearSent(id: string, step: string): Promise<void> {
    await this.redis.hdel(this.k(id).order, `s.${step}.sent`);
  }

  /** Starts the step's budget clock without sending (a hold before the first request). */
  async startClock(id: string, step: string): Promise<number> {
    const key = this.k(id).order;
    await this.redis.hsetnx(key, `s.${step}.since`, String(Date.now()));
    return Number(await this.redis.hget(key, `s.${step}.since`));
  }

  /** An operator's retry: the step's budget starts again. */
  async resetClock(id: string, step: string): Promise<void> {
    await this.redis.hdel(this.k(id).order, `s.${step}.since`);
  }

  /**
   * The gateway's reference for a step, kept first (only the first one: a later, different one
   * is a forgery or a mix-up, and is refused), with the index an IPN naming only it is routed by.
   * Returns the reference now stored.
   */
  async recordStepRef(id: string, step: string, gateway: string, gatewayRef: string): Promise<string> {
    const key = this.k(id).order;
    await this.redis.hsetnx(key, `s.${step}.ref`, gatewayRef);
    const kept = (await this.redis.hget(key, `s.${step}.ref`)) ?? gatewayRef;
    if (kept === gatewayRef) await this.redis.set(this.names.gatewayRef(gateway, gatewayRef), `${id}-${step}`, 'EX', 90 * 86400);
    return kept;
  }

  /** Gateway reference → our step reference (`${orderId}-${step}`), for IPNs that lack ours. */
  async byGatewayRef(gateway: string, gatewayRef: string): Promise<string | null> {
    return this.redis.get(this.names.gatewayRef(gateway, gatewayRef));
  }

  // ── queries ────────────────────────────────────────────────────────
  /** Non-terminal orders last moved before `beforeMs`. */
  async stale(beforeMs: number, limit = 200): Promise<string[]> {
    return this.redis.zrangebyscore(this.names.open(), 0, beforeMs, 'LIMIT', 0, limit);
  }

  /**
   * Moves a still-open order to the back of the reconciliation queue (its state and updatedAt are
   * unchanged), so orders that cannot be moved yet do not take every place of each run.
   */
  async touch(id: string): Promise<void> {
    await this.redis.zadd(this.names.open(), 'XX', Date.now(), id);
  }

  async ids(): Promise<string[]> {
    return this.redis.zrange(this.names.all(), '0', '-1');
  }

  /** Newest first: ids in a state, or of a phone, or all. */
  async list(q: { state?: OrderState; phone?: string; limit?: number; before?: number }): Promise<string[]> {
    const key = q.state ? this.stateKey(q.state) : q.phone ? this.phoneKey(q.phone) : this.names.all();
    const max = q.before !== undefined ? `(${q.before}` : '+inf';
    return this.redis.zrevrangebyscore(key, max, '-inf', 'LIMIT', 0, q.limit ?? 100);
  }

  async countIn(state: OrderState): Promise<number> {
    return this.redis.zcard(this.stateKey(state));
  }

  /** Once-only flag (SET NX): true for the first caller only. */
  async once(id: string, what: string): Promise<boolean> {
    return (await this.redis.set(this.names.once(id, what), '1', 'EX', 90 * 86400, 'NX')) === 'OK';
  }

  /** Whether the once-only flag is set (someone did it already). */
  async isOnce(id: string, what: string): Promise<boolean> {
    return (await this.redis.exists(this.names.once(id, what))) === 1;
  }

  async clearOnce(id: string, what: string): Promise<void> {
    await this.redis.del(this.names.once(id, what));
  }
}
