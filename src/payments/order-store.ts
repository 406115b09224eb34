// Orders in Redis: one hash per order, its history as a list, and indexes. Every state change is
// one Lua script that compares the current state and writes state, fields and history together,
// so two workers (or a worker and an IPN) can never both move an order.
import type { Redis } from '../redis.js';
import { TERMINAL, TRANSITIONS, type HistoryEntry, type Order, type OrderState } from './types.js';

const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
return 1`;

// ARGV: fromCsv, to, cause, nowIso, nowMs, terminal(0/1), id, then field/value pairs.
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return {0, ''} end
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then ok = true end end
if not ok then return {0, cur} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updatedAt', ARGV[4])
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[4], from = cur, to = ARGV[2], cause = ARGV[3]}))
if ARGV[6] == '1' then redis.call('ZREM', KEYS[3], ARGV[7]) else redis.call('ZADD', KEYS[3], ARGV[5], ARGV[7]) end
return {1, cur}`;

// A note in the history without a state change (a gateway ref arrived, a refund attempt failed…).
const NOTE = `
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[2], from = cur, to = cur, cause = ARGV[1]}))
return 1`;

export type TransitionResult = { ok: true; from: OrderState } | { ok: false; current: OrderState | undefined };

type Fields = Partial<Omit<Order, 'id' | 'state' | 'createdAt' | 'updatedAt'>>;

function flat(fields: Fields): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) out.push(k, String(v));
  return out;
}

const NUMERIC = new Set(['amountMinor', 'refundAttempt']);

function toOrder(h: Record<string, string>): Order | undefined {
  if (!h.id) return undefined;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) o[k] = NUMERIC.has(k) ? Number(v) : v;
  return o as unknown as Order;
}

export class OrderStore {
  constructor(private readonly redis: Redis, private readonly key: (...parts: string[]) => string) {}

  private k(id: string) {
    return { order: this.key('order', id), hist: this.key('order', id, 'h'), open: this.key('orders', 'open'), all: this.key('orders', 'all') };
  }

  /** Creates the order if absent (atomic). false: it already existed (a repeated request). */
  async create(o: Omit<Order, 'state' | 'createdAt' | 'updatedAt'>, cause: string): Promise<boolean> {
    const now = new Date();
    const k = this.k(o.id);
    const first: HistoryEntry = { at: now.toISOString(), from: '', to: 'created', cause };
    const fields = flat({ ...o, state: 'created', createdAt: now.toISOString(), updatedAt: now.toISOString() } as Fields);
    const r = await this.redis.eval(CREATE, 4, k.order, k.hist, k.all, k.open, JSON.stringify(first), String(now.getTime()), o.id, ...fields);
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
    const allowed = (Object.keys(TRANSITIONS) as OrderState[]).filter((s) => TRANSITIONS[s].includes(to));
    const from = opts.from ? opts.from.filter((s) => allowed.includes(s)) : allowed;
    if (from.length === 0) throw new Error(`no state may move to ${to}`);
    const now = new Date();
    const k = this.k(id);
    const [ok, cur] = (await this.redis.eval(
      TRANSITION, 3, k.order, k.hist, k.open,
      from.join(','), to, cause, now.toISOString(), String(now.getTime()), TERMINAL.has(to) ? '1' : '0', id,
      ...flat(opts.set ?? {}),
    )) as [number, string];
    return ok === 1 ? { ok: true, from: cur as OrderState } : { ok: false, current: (cur || undefined) as OrderState | undefined };
  }

  /** Records fields and a history line without changing the state. */
  async note(id: string, cause: string, set: Fields = {}): Promise<boolean> {
    const k = this.k(id);
    return (await this.redis.eval(NOTE, 2, k.order, k.hist, cause, new Date().toISOString(), ...flat(set))) === 1;
  }

  /** Gateway reference → our step reference (`${orderId}-${step}`), for IPNs that lack ours. */
  async indexGatewayRef(gatewayRef: string, ourRef: string): Promise<void> {
    await this.redis.set(this.key('gwref', gatewayRef), ourRef, 'EX', 90 * 86400);
  }

  async byGatewayRef(gatewayRef: string): Promise<string | null> {
    return this.redis.get(this.key('gwref', gatewayRef));
  }

  /** Non-terminal orders last moved before `beforeMs`. */
  async stale(beforeMs: number, limit = 200): Promise<string[]> {
    return this.redis.zrangebyscore(this.key('orders', 'open'), 0, beforeMs, 'LIMIT', 0, limit);
  }

  /**
   * Moves a still-open order to the back of the reconciliation queue (its state and updatedAt are
   * unchanged), so orders that cannot be moved yet do not take every place of each run.
   */
  async touch(id: string): Promise<void> {
    await this.redis.zadd(this.key('orders', 'open'), 'XX', Date.now(), id);
  }

  async ids(): Promise<string[]> {
    return this.redis.zrange(this.key('orders', 'all'), '0', '-1');
  }

  /** Counts a step's attempts: more than one means an earlier attempt may have reached the gateway. */
  async attempt(id: string, step: string): Promise<number> {
    const key = this.key('order', id, 'try', step);
    const n = await this.redis.incr(key);
    if (n === 1) await this.redis.expire(key, 90 * 86400);
    return n;
  }

  /** Once-only flag (SET NX): true for the first caller only. */
  async once(id: string, what: string): Promise<boolean> {
    return (await this.redis.set(this.key('order', id, 'once', what), '1', 'EX', 90 * 86400, 'NX')) === 'OK';
  }

  async clearOnce(id: string, what: string): Promise<void> {
    await this.redis.del(this.key('order', id, 'once', what));
  }
}
