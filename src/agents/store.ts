// Agents: phones an operator registered, who activate by SMS OTP and then sell from the merchant
// float with a 4-digit PIN. AGENT_MAX_PIN_TRIES wrong PINs in a row lock the agent AGENT_LOCK_S.
import type { Redis } from '../redis.js';
import { parsePhone } from '../lib/phone.js';
import { hashPin, verifyPin } from './pin.js';
import { loadLua } from '../lib/lua.js';
import { keyNames, type KeyFn, type KeyNames } from '../keys.js';

export type AgentStatus = 'registered' | 'active';

export interface Agent {
  phone: string; // E.164
  status: AgentStatus;
  createdAt: string;
  activatedAt?: string;
  pinChangedAt?: string;
  failedTries: number;
  lockedUntil?: number;
  /** Blocked by an operator: no sale, balance, PIN change or activation until unblocked. */
  blockedAt?: string;
  blockedReason?: string;
}

export type PinCheck =
  | { ok: true; agent: Agent }
  | { ok: false; why: 'not_agent' | 'not_active' | 'blocked' }
  | { ok: false; why: 'locked'; minutes: number }
  | { ok: false; why: 'wrong_pin'; triesLeft: number };

// A PIN check takes its try BEFORE the (slow, async) comparison, in one step with the lock
// check (lua/pin-take-try.lua): parallel guesses each take a try, so no burst gets more than
// maxTries comparisons (checking the lock, then comparing, then counting let a burst of guesses
// all pass the check). A wrong PIN then locks the agent if it was the last try (lua/pin-wrong.lua).
const TAKE_TRY = loadLua(import.meta.url, 'pin-take-try');
const WRONG = loadLua(import.meta.url, 'pin-wrong');

interface AgentRedis extends Redis {
  agentPinTakeTry(key: string, maxTries: string, nowMs: string, lockUntilMs: string): Promise<[string, string | number | undefined, string | undefined]>;
  agentPinWrong(key: string, n: string, maxTries: string, lockUntilMs: string): Promise<number>;
}

export class AgentStore {
  private readonly redis: AgentRedis;
  private readonly names: KeyNames['agents'];

  constructor(
    redis: Redis,
    key: KeyFn,
    private readonly limits: { maxTries: number; lockS: number },
  ) {
    this.redis = redis as AgentRedis;
    this.names = keyNames(key).agents;
    // defineCommand uses EVALSHA with an EVAL fallback, so each script is sent once per connection.
    if (typeof this.redis.agentPinTakeTry !== 'function') {
      this.redis.defineCommand('agentPinTakeTry', { numberOfKeys: TAKE_TRY.numberOfKeys, lua: TAKE_TRY.source });
      this.redis.defineCommand('agentPinWrong', { numberOfKeys: WRONG.numberOfKeys, lua: WRONG.source });
    }
  }

  private k(e164: string): string {
    return this.names.agent(e164);
  }

  static normalize(phone: string): string | undefined {
    const p = parsePhone(phone);
    return p.ok ? p.e164 : undefined;
  }

  /** Registers a phone (idempotent). false: it was already registered. */
  async add(phone: string): Promise<{ agent: Agent; created: boolean }> {
    const e164 = AgentStore.normalize(phone);
    if (!e164) throw new Error('invalid phone number');
    // Each write only where nothing is yet, the agent's own fields in one transaction (one key:
    // no half-registered agent with a phone but no status), then its place in the list (another
    // key, another Cluster slot): adding again lists an agent whose first add died in between.
    const k = this.k(e164);
    const now = new Date();
    const res = await this.redis
      .multi()
      .hsetnx(k, 'phone', e164)
      .hsetnx(k, 'status', 'registered')
      .hsetnx(k, 'createdAt', now.toISOString())
      .hsetnx(k, 'failedTries', 0)
      .exec();
    await this.redis.zadd(this.names.all(), 'NX', now.getTime(), e164);
    const created = res?.[0]?.[1] === 1;
    return { agent: (await this.get(e164))!, created };
  }

  async remove(phone: string): Promise<boolean> {
    const e164 = AgentStore.normalize(phone);
    if (!e164) return false;
    await this.redis.zrem(this.names.all(), e164);
    return (await this.redis.del(this.k(e164))) === 1;
  }

  async get(phone: string): Promise<Agent | undefined> {
    const e164 = AgentStore.normalize(phone);
    if (!e164) return undefined;
    const h = await this.redis.hgetall(this.k(e164));
    if (!h.phone) return undefined;
    return {
      phone: h.phone,
      status: h.status === 'active' ? 'active' : 'registered',
      createdAt: h.createdAt ?? '',
      ...(h.activatedAt ? { activatedAt: h.activatedAt } : {}),
      ...(h.pinChangedAt ? { pinChangedAt: h.pinChangedAt } : {}),
      failedTries: Number(h.failedTries ?? 0),
      ...(h.lockedUntil && Number(h.lockedUntil) > Date.now() ? { lockedUntil: Number(h.lockedUntil) } : {}),
      ...(h.blockedAt ? { blockedAt: h.blockedAt, blockedReason: h.blockedReason ?? '' } : {}),
    };
  }

  /**
   * Blocks a registered agent (a lost phone, a dispute): every agent action refuses it at once,
   * the PIN is kept for when it is unblocked. undefined: no such agent.
   */
  async block(phone: string, reason: string): Promise<Agent | undefined> {
    const e164 = AgentStore.normalize(phone);
    if (!e164 || !(await this.redis.exists(this.k(e164)))) return undefined;
    await this.redis.hset(this.k(e164), 'blockedAt', new Date().toISOString(), 'blockedReason', reason);
    return this.get(e164);
  }

  async unblock(phone: string): Promise<Agent | undefined> {
    const e164 = AgentStore.normalize(phone);
    if (!e164 || !(await this.redis.exists(this.k(e164)))) return undefined;
    await this.redis.hdel(this.k(e164), 'blockedAt', 'blockedReason');
    return this.get(e164);
  }

  async list(): Promise<Agent[]> {
    const phones = await this.redis.zrange(this.names.all(), '0', '-1');
    return (await Promise.all(phones.map((p) => this.get(p)))).filter((a): a is Agent => a !== undefined);
  }

  /** Sets the PIN and marks the agent active (activation, reset, change). */
  async setPin(phone: string, pin: string): Promise<void> {
    const e164 = AgentStore.normalize(phone)!;
    const hash = await hashPin(pin);
    const now = new Date().toISOString();
    const fields: string[] = ['pinHash', hash, 'status', 'active', 'failedTries', '0', 'pinChangedAt', now];
    const h = await this.redis.hget(this.k(e164), 'activatedAt');
    if (!h) fields.push('activatedAt', now);
    await this.redis.hset(this.k(e164), ...fields);
    await this.redis.hdel(this.k(e164), 'lockedUntil');
  }

  minutesLeft(until: number): number {
    return Math.max(1, Math.ceil((until - Date.now()) / 60_000));
  }

  /** Checks a PIN with lockout. The PIN itself is never stored or logged. */
  async checkPin(phone: string, pin: string): Promise<PinCheck> {
    const e164 = AgentStore.normalize(phone);
    if (!e164) return { ok: false, why: 'not_agent' };
    const key = this.k(e164);
    const now = Date.now();
    const lockUntil = String(now + this.limits.lockS * 1000);
    const [verdict, a, hash] = await this.redis.agentPinTakeTry(key, String(this.limits.maxTries), String(now), lockUntil);
    if (verdict === 'not_agent') return { ok: false, why: 'not_agent' };
    if (verdict === 'blocked') return { ok: false, why: 'blocked' };
    if (verdict === 'not_active') return { ok: false, why: 'not_active' };
    if (verdict === 'locked') return { ok: false, why: 'locked', minutes: this.minutesLeft(Number(a)) };
    if (await verifyPin(pin, hash!)) {
      await this.redis.hset(key, 'failedTries', 0);
      const agent = await this.get(e164);
      if (!agent) return { ok: false, why: 'not_agent' }; // removed meanwhile
      return { ok: true, agent };
    }
    const left = await this.redis.agentPinWrong(key, String(a), String(this.limits.maxTries), lockUntil);
    if (left < 0) return { ok: false, why: 'locked', minutes: this.minutesLeft(Number(lockUntil)) };
    return { ok: false, why: 'wrong_pin', triesLeft: left };
  }
}
