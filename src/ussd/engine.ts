// The runner of one hop of a USSD session (docs/architecture.md, "The life of a hop"): the record
// from the store (cached-session-store.ts: the one this process wrote last, or lock+load in one
// script), the pure step (step.ts), the pending state saved before an action runs, the action
// against the deadline through the hop's gate, the pure step on its outcome, save+unlock (one
// script). Every channel goes through here; how each one starts a session, sends its input and
// repeats a request is in docs/channels.md.
import { createHash, randomBytes } from 'node:crypto';
import type { AppContext } from '../app-context.js';
import type { Redis } from '../redis.js';
import { sessionKeyOf } from '../channels/index.js';
import type { ChannelAdapter, UssdReply, UssdRequest } from '../channels/types.js';
import type { Phone } from '../lib/phone.js';
import { MSG } from '../menus/messages.js';
import type { CompiledMenu, MenuContext, Screen } from '../menus/types.js';
import type { ActionContext, ActionResult } from './actions.js';
import { maskPhone } from '../log.js';
import type { AfterReply } from './after-reply.js';
import { randomId } from '../lib/random-id.js';
import { CachedSessionStore, type SessionHop } from './cached-session-store.js';
import { canonicalCode, sequenceMark, startMark, textMark, timeMark } from './input.js';
import type { HopGate } from './hop-gate.js';
import { SessionStore, type Loaded, type ReplayMode, type SessionKeys } from './session-store.js';
import {
  afterAction,
  conclude,
  incompleteText,
  lateText,
  lockLost,
  step,
  type HopFacts,
  type MenuLookup,
  type MenuMatch,
  type Start,
  type StepOptions,
  type Stepped,
} from './step.js';
import { sessionKeyBuilder } from '../keys.js';

export interface HopResult {
  reply: UssdReply;
  screen: string;
  /**
   * con | end | replay | busy | unknown_code | ended | expired | foreign | lock_lost (and, from
   * the route: timeout | timeout_committed | error | error_committed | country)
   */
  outcome: string;
  action?: string;
  actionOutcome?: string;
}

/**
 * Where a hop stood, filled in as the engine learns it, so that a hop cut short by the deadline
 * can still be counted against its service code and screen (src/ussd/funnel.ts).
 */
export interface HopTrace {
  /** The menu's service code without "*" and "#". */
  code?: string;
  /** The screen the session was on before the hop ('' for a new session). */
  from?: string;
}

/** What an end signal found (close). */
export interface EndResult {
  kind: 'closed' | 'already' | 'unknown' | 'foreign';
  /** On 'closed': the session's menu code, the screen it was on, and whether our END had already finished it. */
  code?: string;
  screen?: string;
  completed?: boolean;
}

const UNKNOWN_CODE: HopResult = { reply: { continues: false, text: `${MSG.unknown_code.en}\n${MSG.unknown_code.sw}` }, screen: '-', outcome: 'unknown_code' };
/** A later request of a latest-only session we hold no record of: its input answers a screen we no longer know. */
const EXPIRED: HopResult = { reply: { continues: false, text: `${MSG.ended.en}\n${MSG.ended.sw}` }, screen: '-', outcome: 'expired' };

/**
 * The request's mark and how the load script compares it with the record's (docs/channels.md,
 * "Repeats"): the cumulative text's mark, the aggregator's request number, the start message,
 * or, where nothing on the wire identifies a request, the time it arrived.
 */
function requestMark(channel: ChannelAdapter, req: UssdRequest, arrivedAt: number): string {
  if (channel.inputStyle === 'cumulative') return textMark(req.input);
  if (channel.repeats === 'sequence' && req.sequence !== undefined) return sequenceMark(req.sequence);
  if (req.kind === 'start') return startMark(req.serviceCode, req.input);
  return timeMark(arrivedAt);
}

/** How the load script compares that mark with the record's (ReplayMode). */
function replayMode(channel: ChannelAdapter, req: UssdRequest): ReplayMode {
  if (channel.inputStyle === 'cumulative') return 'e';
  // A start is a repeat only when identical; any other numbered request also when it is older.
  if (channel.repeats === 'sequence' && req.sequence !== undefined) return req.kind === 'start' ? 'e' : 's';
  return req.kind === 'start' ? 'e' : 'n';
}

/**
 * What the record keeps of the request: its mark, or (ReplayMode 'n') the time until which a
 * request counts as a repeat of this one: when this reply was stored (taken before it is sent)
 * plus USSD_REPEAT_WINDOW_MS.
 */
function markToStore(mode: ReplayMode, mark: string, windowMs: number): string {
  return mode === 'n' ? timeMark(Date.now() + windowMs) : mark;
}

const TIMEOUT = Symbol('timeout');
const tokenPrefix = randomBytes(6).toString('hex');
let tokenSeq = 0;

/**
 * A new session record's instance id: time-ordered, with 64 random bits. Order ids derive from
 * it (not from the sessionId, which aggregators reuse once a session has expired).
 */
export function newSessionInstance(): string {
  return `${Date.now().toString(36)}${randomId(8)}`;
}

/** Sends an SMS for a hop whose reply promised one (the action's outcome arrived after the reply). */
export type LateSms = (phone: string, text: string, reference: string) => void;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Everything one hop carries from the request to its last write. */
interface Hop extends HopFacts, SessionHop {
  channel: ChannelAdapter;
  req: UssdRequest;
  phone: Phone;
  after: AfterReply;
  gate: HopGate;
  trace: HopTrace;
  /** The action missed the deadline after committing: its late outcome is settled by SMS. */
  lateHandled: boolean;
}

/** The answer of an action the engine did not start: the subscriber was told to try again. */
function abandoned(name: string, logger: AppContext['logger'], req: UssdRequest): ActionResult {
  logger.warn({ action: name, sessionId: req.sessionId }, 'action not started: the reply already said try again');
  return { outcome: 'failure', reason: MSG.try_again };
}

/** Menu versions kept for sessions in flight across reloads (the current ones included). */
const OLD_VERSIONS_KEPT = 64;

/** How many actions one hop runs at most, each outcome leading to the next. */
const CHAIN_MAX = 4;

/** What UssdEngine uses of the application context (and nothing else of it). */
type UssdEngineDeps = Pick<AppContext, 'actions' | 'cluster' | 'config' | 'logger' | 'metrics' | 'redis'>;

export class UssdEngine implements MenuLookup {
  /** Menus by their code without "*" and "#" ("860*30"), and by version (a record names its menu by version). */
  private readonly byCode = new Map<string, CompiledMenu>();
  private readonly byVersion = new Map<string, CompiledMenu>();
  private readonly codes = new Map<CompiledMenu, string>();
  /** menuFor's answers by the code as sent (null: no menu). */
  private readonly matches = new Map<string, MenuMatch | null>();
  private readonly sessions: CachedSessionStore;
  private readonly stepOptions: StepOptions;
  private readonly margin: number;
  private readonly sessionKeys: (sid: string, msisdn: string) => SessionKeys;

  constructor(
    private readonly app: UssdEngineDeps,
    menus: CompiledMenu[],
    redis: Redis = app.redis,
    private readonly lateSms?: LateSms,
  ) {
    this.setMenus(menus);
    const cfg = app.config;
    this.sessions = new CachedSessionStore(
      new SessionStore(redis, { sessionS: cfg.SESSION_TTL_S, resumeS: cfg.SESSION_TTL_S + cfg.RESUME_WINDOW_S, langS: cfg.LANGUAGE_TTL_S }),
    );
    this.stepOptions = { resume: cfg.RESUME_WINDOW_S > 0, newInstance: newSessionInstance };
    // The fixed parts of the names once, not per hop; in a Cluster all four share the phone's slot.
    this.sessionKeys = sessionKeyBuilder(cfg.REDIS_PREFIX, app.cluster);
    const d = cfg.USSD_DEADLINE_MS;
    this.margin = Math.max(20, Math.min(250, Math.floor(d / 8)));
  }

  /**
   * Serves `menus` from the next request on (a reload). Menus of earlier versions stay known by
   * version, so a session that began on one finishes on it: its record names its version (`m`).
   */
  setMenus(menus: CompiledMenu[]): void {
    this.byCode.clear();
    this.matches.clear();
    for (const m of menus) {
      const code = canonicalCode(m.serviceCode);
      this.byCode.set(code, m);
      this.byVersion.delete(m.version); // re-inserted last: the newest are evicted last
      this.byVersion.set(m.version, m);
      this.codes.set(m, code);
    }
    // A session lasts SESSION_TTL_S; this many versions outlive any plausible run of reloads in
    // that time, and bound what a reload loop could keep alive.
    while (this.byVersion.size > OLD_VERSIONS_KEPT) this.byVersion.delete(this.byVersion.keys().next().value!);
  }

  /** The menus served now, in load order. */
  menus(): CompiledMenu[] {
    return [...this.byCode.values()];
  }

  /** When the reply must be on its way, for a request that arrived at startedAt. */
  deadlineAt(startedAt: number): number {
    return startedAt + this.app.config.USSD_DEADLINE_MS - this.margin;
  }

  /**
   * The menu a dial string names, compared without "*" and "#" ("713", "*713#" and "713#" are
   * one code): exactly, or as an extension of the longest code it extends ("860*30*1*2" →
   * the *860*30# menu with "1*2" to apply). An empty code is the default menu.
   */
  menuFor(serviceCode: string): MenuMatch | undefined {
    // Every hop of a cumulative channel asks, with one of a handful of strings: answered once each.
    const hit = this.matches.get(serviceCode);
    if (hit !== undefined) return hit ?? undefined;
    const found = this.match(serviceCode);
    if (this.matches.size >= 1024) this.matches.clear();
    this.matches.set(serviceCode, found ?? null);
    return found;
  }

  private match(serviceCode: string): MenuMatch | undefined {
    const code = canonicalCode(serviceCode);
    if (code === '') {
      const m = this.byCode.get(canonicalCode(this.app.config.USSD_SERVICE_CODE));
      return m ? { menu: m, extra: '' } : undefined;
    }
    const exact = this.byCode.get(code);
    if (exact) return { menu: exact, extra: '' };
    let best: MenuMatch | undefined;
    let bestLen = -1;
    for (const [c, m] of this.byCode) {
      if (c.length > bestLen && code.startsWith(`${c}*`)) {
        best = { menu: m, extra: code.slice(c.length + 1) };
        bestLen = c.length;
      }
    }
    return best;
  }

  /** The menu answering a code (compared without "*" and "#"), for the funnel's routes. */
  menuByCode(serviceCode: string): CompiledMenu | undefined {
    return this.byCode.get(canonicalCode(serviceCode));
  }

  /** A menu's code without "*" and "#", as the funnel keys it. */
  codeOf(menu: CompiledMenu): string {
    return this.codes.get(menu) ?? canonicalCode(menu.serviceCode);
  }

  /** `sid`: the channel-scoped session key (sessionKeyOf). */
  keys(sid: string, phone: Phone): SessionKeys {
    return this.sessionKeys(sid, phone.msisdn);
  }

  /** A menu of a version still known (current or earlier), for records that name their menu by version. */
  menuOfVersion(version: string): CompiledMenu | undefined {
    return this.byVersion.get(version);
  }

  async hop(
    channel: ChannelAdapter,
    req: UssdRequest,
    phone: Phone,
    after: AfterReply,
    startedAt: number,
    gate: HopGate,
    trace: HopTrace = {},
  ): Promise<HopResult> {
    // Cumulative channels name the menu on every request, latest-only ones on their start; a
    // later request of a latest-only session belongs to the menu it began on (its record's).
    let found: MenuMatch | undefined;
    if (channel.inputStyle === 'cumulative' || req.kind === 'start') {
      found = this.menuFor(req.serviceCode);
      if (!found) return UNKNOWN_CODE;
      trace.code = this.codeOf(found.menu);
    }
    const cfg = this.app.config;
    const sid = sessionKeyOf(channel, req.sessionId);
    const k = this.keys(sid, phone);
    const token = `${tokenPrefix}${++tokenSeq}`;
    gate.token = token;
    const deadlineAt = this.deadlineAt(startedAt);
    const lockMs = cfg.USSD_DEADLINE_MS + 1000;
    const mark = requestMark(channel, req, startedAt);
    gate.session = { keys: k, mark };
    const mode = replayMode(channel, req);
    // One literal with every field (no spread, no field added later): V8 keeps it a fast object.
    const hop: Hop = { found, channel, req, phone, after, sid, k, token, deadlineAt, lockMs, mark, mode, gate, trace, lateHandled: false, expect: undefined };

    let saved = false;
    try {
      let loaded = await this.sessions.begin(hop);
      for (;;) {
        if (loaded.kind === 'busy') {
          saved = true; // nothing of ours to unlock
          // No promise of an SMS: whether the other request moves money is its own reply's business.
          gate.fail();
          return { reply: { continues: false, text: MSG.still_busy.en }, screen: '-', outcome: 'busy' };
        }
        if (loaded.kind === 'foreign') {
          saved = true; // nothing of that session was locked or changed
          return this.foreign(req, phone);
        }
        if (loaded.kind === 'replay') {
          saved = true;
          return { reply: loaded.reply, screen: '-', outcome: 'replay' };
        }
        const r = await this.advance(hop, loaded);
        if ('outcome' in r) {
          saved = true;
          return r;
        }
        // The record this process wrote last had moved on: step again from the one in Redis.
        loaded = r;
      }
    } finally {
      // Our token only ever unlocks our own lock: harmless when we never took it.
      if (!saved) await this.sessions.release(hop);
    }
  }

  /**
   * After a hop answered "try again" without reaching its record (Redis stalled or failing),
   * store that answer for the request's text once Redis answers again, so a repeat of the same
   * request replays it instead of being taken as new. Best effort, in the background: a record
   * someone else has moved on, or holds locked, is left alone.
   */
  rememberFailure(phone: Phone, reply: UssdReply, gate: HopGate): void {
    if (!gate.session) return; // the hop stopped before it had a session to speak of
    const { keys: k, mark } = gate.session;
    const token = gate.token;
    void (async () => {
      // The first try goes at once: on the session's connection it queues right behind
      // whatever the failed hop sent, so nothing can run that hop's action in between.
      for (let attempt = 0; attempt < 8; attempt++) {
        if (attempt > 0) await sleep(200 * 2 ** Math.min(attempt, 5));
        try {
          const r = await this.sessions.store.rememberReply(k, mark, reply, phone.e164, token);
          if (r !== 'locked') return;
        } catch {
          /* Redis still away: try again */
        }
      }
    })();
  }

  /**
   * An end signal (Hubtel Release/Timeout, Beem terminate, Infobip end, Africa's Talking's
   * end-of-session notification): the session is marked closed with `how` (once), later
   * requests for it get "session ended", and the caller learns where it stood.
   */
  async close(channel: Pick<ChannelAdapter, 'name'>, sessionId: string, phone: Phone, how: string): Promise<EndResult> {
    const sid = sessionKeyOf(channel, sessionId);
    const r = await this.sessions.close(sid, this.keys(sid, phone), phone.e164, how);
    if (r.kind !== 'closed') return { kind: r.kind };
    const menu = this.byVersion.get(r.machineVersion);
    const screen = r.screen;
    return {
      kind: 'closed',
      ...(menu ? { code: this.codeOf(menu) } : {}),
      ...(screen && menu?.screens.has(screen) ? { screen } : {}),
      completed: r.completed,
    };
  }

  /**
   * A request naming a session that belongs to another phone (a guessed or replayed sessionId):
   * it ends, and the owner's session is untouched, so its owner can still finish.
   */
  private foreign(req: UssdRequest, phone: Phone): HopResult {
    this.app.logger.warn({ sessionId: req.sessionId, phone: maskPhone(phone.e164) }, 'ussd request for a session of another phone refused');
    this.app.metrics.inc('ussd_foreign_session_total', {}, 1, 'Requests naming a session that belongs to another phone');
    return { reply: { continues: false, text: `${MSG.foreign.en}\n${MSG.foreign.sw}` }, screen: '-', outcome: 'foreign' };
  }

  /**
   * The hop from `loaded`: the pure step, each action's state saved before it runs (rule 4), the
   * final save. Answers what the store found instead when the record it was handed had moved on
   * before the hop's first write (nothing written, nothing run).
   */
  private async advance(hop: Hop, loaded: Start): Promise<HopResult | Loaded> {
    const { req, phone, token, mode, mark, gate, trace } = hop;
    const cfg = this.app.config;
    const stepped = step(this, hop, loaded, this.stepOptions);
    if (typeof stepped === 'string') {
      await this.sessions.release(hop);
      return stepped === 'foreign' ? this.foreign(req, phone) : stepped === 'expired' ? EXPIRED : UNKNOWN_CODE;
    }
    let s = stepped;
    const menu = s.menu;
    trace.code = this.codeOf(menu);
    trace.from = s.from;
    let actionName: string | undefined;
    let actionOutcome: string | undefined;

    // Effects, after the state that triggered them is saved (docs/architecture.md, rule 4).
    for (let chain = 0; chain < CHAIN_MAX && s.run; chain++) {
      const screen = s.run;
      actionName = screen.kind === 'action' ? screen.action : undefined;
      const w = await this.sessions.write(hop, {
        token,
        mark: markToStore(mode, mark, cfg.USSD_REPEAT_WINDOW_MS),
        reply: undefined,
        state: s.state,
        n: s.n,
        machineVersion: menu.version,
        resumeOffer: undefined,
        resume: 'keep',
        lang: undefined,
        phone: phone.e164,
        unlock: false,
      });
      if (typeof w !== 'string') return w;
      if (!w) {
        // This hop stalled past its lock (a chained action, a long pause) and someone else may
        // now be running this step: an action whose state is not saved must never start.
        this.app.logger.warn({ sessionId: req.sessionId, action: actionName }, 'ussd session lock lost before an action; action not started');
        gate.fail();
        return { reply: lockLost(s), screen: screen.id, outcome: 'lock_lost', ...(actionName ? { action: actionName } : {}) };
      }
      const result = await this.runAction(hop, s, screen);
      actionOutcome = result.outcome;
      s = afterAction(s, result);
    }

    const last = s;
    const c = conclude(last, hop, this.stepOptions);
    const reply = c.reply;
    // Once an action has run, its outcome is the truth: a failed save must not turn it into
    // "service unavailable" (a retry finds the saved action state and re-runs it idempotently).
    let saveFailed = false;
    // The reply is final: if an earlier one already promised an SMS (the hop ran late), this is
    // what the SMS says. An outcome of 'processing' is a promise the action keeps itself, and a
    // late action result is settled by runAction. Registered before the write, so a promise made
    // while Redis is slow is kept at once; but when this write is the hop's first against a
    // record handed from memory (hop.expect), it may find that record moved on, and then this
    // pass is thrown away and the hop steps again from Redis: its text must not stay behind
    // (test/ussd/stale-settle.test.ts). So in that case it is registered only once written.
    const settle =
      actionOutcome !== 'processing' && !hop.lateHandled ? () => this.sendLate(hop, reply.continues ? incompleteText(last) : reply.text) : undefined;
    const speculative = hop.expect !== undefined;
    if (settle && !speculative) gate.settle(settle);
    const w = await this.sessions
      .write(hop, {
        token,
        mark: markToStore(mode, mark, cfg.USSD_REPEAT_WINDOW_MS),
        reply,
        state: c.state,
        n: c.n,
        machineVersion: menu.version,
        resumeOffer: c.resumeOffer,
        resume: c.resume,
        lang: c.lang,
        phone: phone.e164,
        unlock: true,
      })
      .catch((err: unknown) => {
        if (!actionName) throw err;
        this.app.logger.error(
          { sessionId: req.sessionId, action: actionName, err: (err as Error)?.message ?? String(err) },
          'ussd session save failed after the action ran',
        );
        saveFailed = true;
        this.sessions.forget(hop.sid);
        return '';
      });
    // The record had moved on: nothing was written and nothing ran in this pass (an action's
    // pending save would have been the first write and found it so); the hop steps again.
    if (typeof w !== 'string') return w;
    if (settle && speculative) gate.settle(settle);
    if (w === '' && !saveFailed) this.app.logger.warn({ sessionId: req.sessionId }, 'ussd session lock expired before save; state not saved');
    return { reply, screen: c.screen, outcome: c.outcome, ...(actionName ? { action: actionName } : {}), ...(actionOutcome ? { actionOutcome } : {}) };
  }

  /** Runs the action of `screen` (where `at` stands) against the hop's deadline, through its gate. */
  private async runAction(hop: Hop, at: Stepped, screen: Screen): Promise<ActionResult> {
    const { req, phone, after, deadlineAt, gate } = hop;
    const menu = at.menu;
    const ctx = at.snap.context as MenuContext;
    if (screen.kind !== 'action') throw new Error(`screen ${screen.id} is not an action screen`);
    const name = screen.action;
    const logger = this.app.logger;
    const handler = this.app.actions.get(name);
    if (!handler) {
      logger.error({ action: name, menu: menu.id }, 'no handler registered for menu action');
      return { outcome: 'failure' };
    }
    // Money moves in KES for Kenyan numbers only: a subscriber from another country (served
    // through PHONE_COUNTRIES) reaches the screens but no action runs for them unless its
    // handler says it serves every country. Nothing was committed: an honest failure.
    if (!phone.e164.startsWith('+254') && !this.app.actions.servesAnyCountry(name)) {
      logger.warn({ action: name, sessionId: req.sessionId, country: phone.country ?? '?' }, 'action refused: not a Kenyan number');
      this.app.metrics.inc('ussd_action_refused_total', { action: name, reason: 'country' }, 1, 'Actions refused before they ran');
      return { outcome: 'failure', reason: MSG.kenya_only };
    }
    // Unless the handler picks its own commit point, it commits now: the reply may already have
    // told the subscriber to try again (the hop ran past its deadline), and then it must not run.
    const selfCommit = this.app.actions.commitsItself(name);
    if (!selfCommit && !gate.commit()) return abandoned(name, logger, req);
    const ac = new AbortController();
    const actx: ActionContext = {
      action: name,
      params: screen.params ?? {},
      sessionId: req.sessionId,
      sessionInstance: ctx.i ?? req.sessionId,
      menuId: menu.id,
      serviceCode: menu.serviceCode,
      phone: phone.e164,
      ...(req.networkCode ? { networkCode: req.networkCode } : {}),
      lang: ctx.lang,
      values: { ...ctx.v },
      idempotencyKey: ctx.k || `${ctx.i ?? req.sessionId}:${screen.id}`,
      signal: ac.signal,
      logger,
      afterReply: (fn) => after.add(fn),
      commit: selfCommit ? () => gate.commit() : () => true,
    };
    const started = Date.now();
    let p: Promise<ActionResult>;
    try {
      p = Promise.resolve(handler(actx));
    } catch (err) {
      p = Promise.reject(err);
    }
    p = p.then(
      (r) => (r && typeof r.outcome === 'string' ? r : { outcome: 'failure' }),
      (err: unknown) => {
        logger.error({ action: name, sessionId: req.sessionId, err: (err as Error)?.message ?? String(err) }, 'menu action failed');
        return { outcome: 'failure' };
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, deadlineAt - Date.now() - 30));
    });
    const r = await Promise.race([p, timeout]);
    clearTimeout(timer);
    if (r !== TIMEOUT) return r;
    ac.abort();
    this.app.metrics.inc('ussd_action_deadline_total', { action: name }, 1, 'Actions that missed the USSD deadline');
    if (gate.fail()) {
      // Nothing was committed: the screen says "try again", and the action, which keeps going,
      // finds the gate closed at its commit point and stops there.
      void p.then((late) =>
        logger.info(
          { action: name, sessionId: req.sessionId, outcome: late.outcome, ms: Date.now() - started },
          'menu action finished after the deadline; the subscriber was told to try again',
        ),
      );
      return { outcome: 'failure', reason: MSG.try_again };
    }
    // Committed: the screen promises an SMS, and the SMS carries the outcome once it is known.
    hop.lateHandled = true;
    gate.promiseSms();
    void p.then((late) => {
      logger.info({ action: name, sessionId: req.sessionId, outcome: late.outcome, ms: Date.now() - started }, 'menu action finished after the deadline');
      this.settleLate(hop, at, late);
    });
    return { outcome: 'processing' };
  }

  /** The late outcome of an action, as the screen it leads to would have said it: by SMS. */
  private settleLate(hop: Hop, at: Stepped, late: ActionResult): void {
    // 'processing' from the action itself: its own flow (an order's SMS) keeps the promise.
    if (late.outcome === 'processing') return;
    let text: string;
    try {
      text = lateText(at, late);
    } catch (err) {
      this.app.logger.error({ sessionId: hop.req.sessionId, err: (err as Error).message }, 'late action outcome could not be rendered');
      text = incompleteText(at);
    }
    hop.gate.settle(() => this.sendLate(hop, text));
  }

  private sendLate(hop: Hop, text: string): void {
    const ctx = hop.req;
    const reference = `late-${createHash('sha256').update(`${hop.sid}\n${hop.token}`).digest('hex').slice(0, 20)}`;
    this.app.metrics.inc('ussd_late_sms_total', {}, 1, 'Outcomes sent by SMS because the reply promised one');
    if (!this.lateSms) {
      this.app.logger.error({ sessionId: ctx.sessionId }, 'a reply promised an SMS but no SMS sender is configured');
      return;
    }
    this.lateSms(hop.phone.e164, text, reference);
  }
}
