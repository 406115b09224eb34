// One hop of a USSD session: lock+load (one script), pure xstate transition, save, run the
// action effect against the deadline, transition on its outcome, save+unlock (one script).
// Every channel goes through here; how each one starts a session, sends its input and repeats
// a request is in docs/channels.md.
import { createHash, randomBytes } from 'node:crypto';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { AppContext } from '../app-context.js';
import type { Redis } from '../redis.js';
import { sessionKeyOf } from '../channels/index.js';
import type { ChannelAdapter, ReplyField, UssdReply, UssdRequest } from '../channels/types.js';
import type { Phone } from '../lib/phone.js';
import { MSG, msg } from '../menus/messages.js';
import { renderScreen } from '../menus/render.js';
import type { CompiledMenu, MenuContext, MenuEvent, Screen } from '../menus/types.js';
import type { ActionContext, ActionResult, Lang } from './actions.js';
import { maskPhone } from '../log.js';
import type { AfterReply } from './after-reply.js';
import { answersOf, canonicalCode, latestInput, sequenceMark, startMark, textMark, timeMark } from './input.js';
import type { HopGate } from './hop-gate.js';
import { restoreSnapshot, steppingLogic } from './machine-cache.js';
import { SessionStore, type Loaded, type ReplayMode, type SessionKeys, type ResumePointer, type SessionRecord, type SessionState, type SessionWrite } from './session-store.js';
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

/** How the handset should take the answer to this screen (a hint some aggregators forward). */
function fieldOf(screen: Screen): ReplyField | undefined {
  if (screen.kind !== 'input') return undefined;
  const def = screen.input;
  if (def.type === 'pin' || def.secret) return 'secret';
  if (def.type === 'phone') return 'phone';
  if (def.type === 'amount' || def.type === 'digits') return 'number';
  return undefined;
}

const TIMEOUT = Symbol('timeout');
const tokenPrefix = randomBytes(6).toString('hex');
let tokenSeq = 0;

/**
 * A new session record's instance id: time-ordered, with 64 random bits. Order ids derive from
 * it (not from the sessionId, which aggregators reuse once a session has expired).
 */
export function newSessionInstance(): string {
  return `${Date.now().toString(36)}${randomBytes(8).toString('base64url')}`;
}

/** Sends an SMS for a hop whose reply promised one (the action's outcome arrived after the reply). */
export type LateSms = (phone: string, text: string, reference: string) => void;

type Stored = SessionState;

/** The state to store: the snapshot's screen and context (xstate never changes a context in place). */
function stateOf(snap: AnyMachineSnapshot): SessionState {
  return { v: snap.value as string, c: snap.context as MenuContext };
}

/** `s` without the values named in `drop`: the same object when it holds none of them. */
function without(s: SessionState, drop: Set<string>): SessionState {
  if (!drop.size || !hasAny(s.c.v, drop)) return s;
  const v: Record<string, string> = {};
  for (const [k, val] of Object.entries(s.c.v)) if (!drop.has(k)) v[k] = val;
  return { v: s.v, c: { ...s.c, v } };
}

function hasAny(v: Record<string, string>, keys: Set<string>): boolean {
  for (const k of keys) if (Object.hasOwn(v, k)) return true;
  return false;
}

// Module-level helpers rather than closures made on every hop (each costs under tsx).
/** `instance` is the session record's instance id: the key (an order's identity) never repeats. */
function inEvent(input: string, instance: string, n: number, lim: number): MenuEvent {
  return { type: 'IN', input, key: `${instance}:${n}`, lim };
}

function screenOf(menu: CompiledMenu, s: AnyMachineSnapshot): Screen {
  return menu.screens.get(s.value as string)!;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A record this process wrote, its write id and the phone it belongs to. */
interface Written { w: string; rec: SessionRecord; phone: string }

interface MenuMatch { menu: CompiledMenu; extra: string }

/** Everything one hop carries from the request to its last write. */
interface Hop {
  /** The menu the request names (always for cumulative channels and starts; else the record's). */
  found: MenuMatch | undefined;
  /** The session's menu, once advance() has settled it. */
  menu: CompiledMenu | undefined;
  channel: ChannelAdapter;
  req: UssdRequest;
  phone: Phone;
  after: AfterReply;
  /** The session's key: the aggregator's id, scoped per channel (sessionKeyOf). */
  sid: string;
  k: SessionKeys;
  token: string;
  deadlineAt: number;
  /** requestMark(): what the record keeps of the request. */
  mark: string;
  mode: ReplayMode;
  gate: HopGate;
  trace: HopTrace;
  /** The action missed the deadline after committing: its late outcome is settled by SMS. */
  lateHandled: boolean;
}

/**
 * Applies the answers `input` holds ("3*1": 3, then 1) one at a time, stopping at the first one
 * the menu rejects, at an action (which then runs) or at an END.
 */
function applyAnswers(step: ReturnType<typeof steppingLogic>, menu: CompiledMenu, snap: AnyMachineSnapshot, input: string, instance: string, n: number, lim: number): [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>] {
  // Most inputs are one answer: no list to build.
  if (!input.includes('*')) return transition(step, snap, inEvent(input, instance, n, lim)) as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
  let actions: Array<{ type: string; params?: unknown }> = [];
  for (const a of answersOf(input)) {
    [snap, actions] = transition(step, snap, inEvent(a, instance, n, lim));
    const s = screenOf(menu, snap);
    if ((snap.context as MenuContext).e || (s.kind !== 'options' && s.kind !== 'input')) break;
  }
  return [snap, actions];
}

/** The event an action's result feeds the machine. */
function outEvent(atAction: AnyMachineSnapshot, result: ActionResult): MenuEvent {
  const lang = (atAction.context as MenuContext).lang;
  const vars: Record<string, string> = { ...(result.vars ?? {}) };
  const reason = result.reason as Record<string, string> | undefined;
  vars.reason = (reason ? reason[lang] ?? reason.en : undefined) ?? vars.reason ?? '';
  return { type: 'OUT', outcome: result.outcome, vars };
}

/** The answer of an action the engine did not start: the subscriber was told to try again. */
function abandoned(name: string, logger: AppContext['logger'], req: UssdRequest): ActionResult {
  logger.warn({ action: name, sessionId: req.sessionId }, 'action not started: the reply already said try again');
  return { outcome: 'failure', reason: MSG.try_again };
}

/** Menu versions kept for sessions in flight across reloads (the current ones included). */
const OLD_VERSIONS_KEPT = 64;

/** Sessions this process answered last, at most this many (each about 1 KB). */
const RECENT_MAX = 4_096;

/**
 * How advance() stores the hop's first write. 'locked': under the lock hop() took with load.
 * 'try': as a compare-and-set against `w`, the version this process wrote last, with no lock
 * round trip before (SessionStore.try); if someone else wrote since, the script answers as load
 * would and advance() throws Stale so the hop starts again from what Redis holds.
 */
type FirstWrite = { mode: 'locked' } | { mode: 'try'; w: string; mark: string; lockMs: number };

class Stale {
  constructor(readonly loaded: Loaded) {}
}

export class UssdEngine {
  /** Menus by their code without "*" and "#" ("860*30"), and by version (a record names its menu by version). */
  private readonly byCode = new Map<string, CompiledMenu>();
  private readonly byVersion = new Map<string, CompiledMenu>();
  private readonly codes = new Map<CompiledMenu, string>();
  /** menuFor's answers by the code as sent (null: no menu). */
  private readonly matches = new Map<string, MenuMatch | null>();
  private readonly store: SessionStore;
  private readonly margin: number;
  private readonly sessionKeys: (sid: string, msisdn: string) => SessionKeys;
  /** The last record this process wrote per session: the next hop's starting point, if still current. */
  private readonly recent = new Map<string, Written>();

  constructor(private readonly app: AppContext, menus: CompiledMenu[], redis: Redis = app.redis, private readonly lateSms?: LateSms) {
    this.setMenus(menus);
    const cfg = app.config;
    this.store = new SessionStore(redis, { sessionS: cfg.SESSION_TTL_S, resumeS: cfg.SESSION_TTL_S + cfg.RESUME_WINDOW_S, langS: cfg.LANGUAGE_TTL_S });
    // The fixed parts of the names once, not per hop; in a Cluster all four share the phone's slot.
    this.sessionKeys = sessionKeyBuilder(app.config.REDIS_PREFIX, app.cluster);
    const d = app.config.USSD_DEADLINE_MS;
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

  async hop(channel: ChannelAdapter, req: UssdRequest, phone: Phone, after: AfterReply, startedAt: number, gate: HopGate, trace: HopTrace = {}): Promise<HopResult> {
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
    const hop: Hop = { found, menu: undefined, channel, req, phone, after, sid, k, token, deadlineAt, mark, mode, gate, trace, lateHandled: false };

    let saved = false;
    try {
      let loaded: Loaded | undefined;
      // Most hops reach the process that answered the previous one: start from the record it
      // wrote and store the result in one round trip, unless someone else wrote since.
      // (A repeat of that hop's own request is a replay: load answers it without computing anything.)
      const last = this.recent.get(sid);
      if (last && last.rec.mark !== mark && last.phone === phone.e164) {
        try {
          const r = await this.advance(hop, last.rec, { mode: 'try', w: last.w, mark: last.rec.mark, lockMs });
          saved = true;
          return r;
        } catch (err) {
          if (!(err instanceof Stale)) throw err;
          // Unless a concurrent hop of this session has already written a newer one.
          if (this.recent.get(sid) === last) this.recent.delete(sid);
          loaded = err.loaded; // a replay, busy, or the record with our lock on it
        }
      }
      let wait = 2;
      while (loaded === undefined || loaded.kind === 'busy') {
        if (loaded?.kind === 'busy') {
          // Another request for this session holds the lock (an aggregator retry overlapping the
          // original): wait for its reply, which we then replay, but never past our own deadline.
          if (Date.now() + wait >= deadlineAt) {
            saved = true; // nothing of ours to unlock
            // No promise of an SMS: whether the other request moves money is its own reply's business.
            gate.fail();
            return { reply: { continues: false, text: MSG.still_busy.en }, screen: '-', outcome: 'busy' };
          }
          await sleep(wait);
          wait = Math.min(wait * 2, 40);
        }
        loaded = await this.store.load(k, mark, token, lockMs, phone.e164, mode);
      }
      if (loaded.kind === 'foreign') {
        saved = true; // nothing of that session was locked or changed
        return this.foreign(req, phone);
      }
      if (loaded.kind === 'replay') {
        saved = true;
        return { reply: loaded.reply, screen: '-', outcome: 'replay' };
      }
      const r = await this.advance(hop, loaded, { mode: 'locked' });
      saved = true;
      return r;
    } finally {
      // Our token only ever unlocks our own lock: harmless when we never took it.
      if (!saved) await this.store.unlock(k, token).catch(() => undefined);
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
          const r = await this.store.rememberReply(k, mark, reply, phone.e164, token);
          if (r !== 'locked') return;
        } catch { /* Redis still away: try again */ }
      }
    })();
  }

  /** Stores one write of the hop, the first one as `first` says, later ones under the lock: the write id, '' if the lock was lost. */
  private async write(k: SessionKeys, first: FirstWrite, a: SessionWrite, mode: ReplayMode, mark: string): Promise<string> {
    if (first.mode === 'locked') return this.store.save(k, a);
    const r = await this.store.try(k, first, first.lockMs, a, mode, mark);
    if (r.kind !== 'written') throw new Stale(r);
    return r.w;
  }

  /**
   * An end signal (Hubtel Release/Timeout, Beem terminate, Infobip end, Africa's Talking's
   * end-of-session notification): the session is marked closed with `how` (once), later
   * requests for it get "session ended", and the caller learns where it stood.
   */
  async close(channel: Pick<ChannelAdapter, 'name'>, sessionId: string, phone: Phone, how: string): Promise<EndResult> {
    const sid = sessionKeyOf(channel, sessionId);
    const r = await this.store.close(this.keys(sid, phone).sess, phone.e164, how);
    if (r.kind !== 'closed') return { kind: r.kind };
    this.recent.delete(sid);
    const menu = this.byVersion.get(r.machineVersion);
    const screen = r.screen;
    return {
      kind: 'closed',
      ...(menu ? { code: this.codeOf(menu) } : {}),
      ...(screen && menu?.screens.has(screen) ? { screen } : {}),
      completed: r.completed,
    };
  }

  private remember(sessionId: string, w: string, rec: SessionRecord, phone: string): void {
    if (!w) {
      this.recent.delete(sessionId);
      return;
    }
    // Oldest session first out: a session lives minutes, so insertion order is age order enough.
    if (this.recent.size >= RECENT_MAX && !this.recent.has(sessionId)) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(sessionId, { w, rec, phone });
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

  private async advance(hop: Hop, loaded: Exclude<Loaded, { kind: 'replay' | 'busy' | 'foreign' }>, first: FirstWrite): Promise<HopResult> {
    const { channel, req, phone, sid, k, token, mark, mode, gate, trace } = hop;
    const cfg = this.app.config;
    const latest = channel.inputStyle === 'latest';
    const rec = loaded.kind === 'session' ? loaded : undefined;
    let menu = hop.found?.menu;
    let extra = hop.found?.extra ?? '';

    // The record's menu: the one this request names (a record of another version counts as
    // expired), or for a later request of a latest-only session, the menu it began on.
    // Since a reload, the record may name an earlier version of the menu this request names: the
    // session finishes on the version it began on.
    const recMenu = rec ? (menu ? (rec.machineVersion === menu.version ? menu : this.earlier(menu, rec.machineVersion)) : this.byVersion.get(rec.machineVersion)) : undefined;
    // A record we cannot read (state undefined) counts as expired rather than failing every hop of the session.
    const stored: Stored | undefined = rec && recMenu ? rec.state : undefined;
    // A record written before records kept their phone still names it in its snapshot.
    if (stored && stored.c.ph && stored.c.ph !== phone.e164) {
      await this.store.unlock(k, token).catch(() => undefined);
      return this.foreign(req, phone);
    }

    // A new session, or the next hop of the one on record?
    let fresh: boolean;
    if (!latest) fresh = !stored; // cumulative: the text itself says where the session is
    else if (channel.starts === 'explicit') {
      // The aggregator's start flag always begins anew: an old record under a reused id must
      // never lend its screens (a confirmation among them) to a new session.
      fresh = req.kind === 'start';
      if (!fresh && !stored) {
        await this.store.unlock(k, token).catch(() => undefined);
        return EXPIRED;
      }
    } else {
      // Implicit starts (Airtel): a session we hold nothing open for, whose input is a dialled code.
      const over = !stored || !!rec!.closed || recMenu!.screens.get(stored.v)?.kind === 'end';
      const dialled = over && req.input !== '' ? this.menuFor(req.input) : undefined;
      fresh = !!dialled;
      if (dialled) ({ menu, extra } = dialled);
      else if (!stored) {
        await this.store.unlock(k, token).catch(() => undefined);
        return UNKNOWN_CODE;
      }
    }
    if (!fresh) menu = recMenu!;
    menu = menu!;
    hop.menu = menu;
    trace.code = this.codeOf(menu);
    trace.from = fresh ? '' : stored!.v;

    const step = steppingLogic(menu.machine);
    const lim = channel.screenMaxChars;
    let n = 0;
    let storedLang = '';
    let snap: AnyMachineSnapshot;
    let resumeOffer: SessionState | undefined;
    let fixedReply: UssdReply | undefined;
    let actions: Array<{ type: string; params?: unknown }> = [];
    let outcome = 'con';
    let actionName: string | undefined;
    let actionOutcome: string | undefined;

    // The session's instance: kept in the snapshot; a record without one (an older release) gets one now.
    let instance = stored?.c.i ?? newSessionInstance();
    if (!fresh && rec && stored) {
      n = rec.n;
      storedLang = stored.c.lang;
      snap = restoreSnapshot(menu.machine, stored.v, { ...stored.c, i: instance });
      const input = latest ? req.input : latestInput(rec.mark, req.input, true);
      if (rec.closed) {
        // An end signal closed it (the subscriber hung up, the aggregator gave up).
        fixedReply = { continues: false, text: msg(menu, 'ended', stored.c.lang) };
        outcome = 'ended';
      } else if (rec.resumeOffer) {
        if (input === '1') {
          const r = rec.resumeOffer;
          // The resumed screens continue under this session's instance: keys of the dropped
          // session (and its orders) are never met again.
          snap = restoreSnapshot(menu.machine, r.v, { ...r.c, e: '', pg: 0, lang: stored.c.lang, ph: phone.e164, i: instance });
        } else if (input !== '2' && input !== menu.keys.home && input !== menu.keys.back) {
          resumeOffer = rec.resumeOffer;
          fixedReply = { continues: true, text: `${msg(menu, 'opt', stored.c.lang)}\n${msg(menu, 'resume', stored.c.lang)}` };
        }
      } else {
        const screen = screenOf(menu, snap);
        if (screen.kind === 'end') {
          fixedReply = { continues: false, text: msg(menu, 'ended', stored.c.lang) };
          outcome = 'ended';
        } else if (screen.kind === 'action') {
          // The process that started this action died before saving its outcome: run it again
          // with the same idempotency key (the handler deduplicates on it).
          actions = [{ type: 'run', params: { action: screen.action, screen: screen.id } }];
        } else {
          // "3*1" typed at one prompt, or "0*1*00": each answer in turn.
          [snap, actions] = applyAnswers(step, menu, snap, input, instance, n, lim);
        }
      }
    } else {
      // The phone's remembered language when this menu speaks it, else the menu's default.
      let lang: Lang = menu.languages[0] ?? 'en';
      if (loaded.kind === 'new') {
        if (loaded.lang && menu.languages.includes(loaded.lang)) lang = loaded.lang;
        storedLang = lang;
      } else {
        // A cumulative record of another menu version goes on counting; a new session over a
        // reused id (a start, or Airtel's dialled code) counts from 0 like any new one.
        if (!latest) n = loaded.n;
        const l = loaded.state?.c.lang; // unreadable: the default
        if (l !== undefined && menu.languages.includes(l)) lang = l;
        storedLang = lang;
      }
      instance = newSessionInstance();
      snap = initialTransition(step, { v: {}, h: [], pg: 0, e: '', lang, ph: phone.e164, i: instance } satisfies MenuContext)[0];
      // A deep link: the dialled code's extension, or (cumulative channels, first request) the text.
      const shortcut = latest ? extra : loaded.kind === 'new' ? req.input || extra : '';
      const offer = loaded.kind === 'new' ? this.resumable(menu, loaded.resume, sid, shortcut) : undefined;
      if (offer) {
        resumeOffer = offer;
        fixedReply = { continues: true, text: msg(menu, 'resume', lang) };
      } else if (shortcut) {
        // Dial-in shortcut (*860*30*1*2#): replay the inputs, stopping at the first one the
        // menu rejects or at an action (which then runs as if typed).
        [snap, actions] = applyAnswers(step, menu, snap, shortcut, instance, n, lim);
      }
    }

    // Effects, after the state that triggered them is saved (docs/architecture.md, rule 4).
    for (let chain = 0; chain < 4; chain++) {
      const run = actions.find((a) => a.type === 'run');
      if (!run) break;
      const screen = screenOf(menu, snap);
      actionName = screen.kind === 'action' ? screen.action : undefined;
      const pending = stateOf(snap);
      const t = markToStore(mode, mark, cfg.USSD_REPEAT_WINDOW_MS);
      const w = await this.write(k, first, {
        token, mark: t, reply: undefined, state: pending, n,
        machineVersion: menu.version, resumeOffer: undefined, resume: 'keep', lang: undefined, phone: phone.e164, unlock: false,
      }, mode, mark);
      first = { mode: 'locked' }; // the lock is ours from here until the final write
      this.remember(sid, w, { kind: 'session', mark: t, state: pending, n, machineVersion: menu.version, resumeOffer: undefined, closed: '' }, phone.e164);
      if (!w) {
        // This hop stalled past its lock (a chained action, a long pause) and someone else may
        // now be running this step: an action whose state is not saved must never start.
        this.app.logger.warn({ sessionId: req.sessionId, action: actionName }, 'ussd session lock lost before an action; action not started');
        const lang = (snap.context as MenuContext).lang;
        gate.fail();
        return { reply: { continues: false, text: msg(menu, 'still_busy', lang) }, screen: screen.id, outcome: 'lock_lost', ...(actionName ? { action: actionName } : {}) };
      }
      const atAction = snap;
      const result = await this.runAction(hop, screen, atAction.context as MenuContext, (late) => this.settleLate(hop, atAction, late));
      actionOutcome = result.outcome;
      [snap, actions] = transition(step, snap, outEvent(atAction, result));
    }

    const ctx = snap.context as MenuContext;
    const screen = screenOf(menu, snap);
    let reply = fixedReply;
    if (!reply) {
      const field = screen.kind === 'input' ? fieldOf(screen) : undefined;
      const text = renderScreen(menu, screen, ctx, lim);
      reply = field ? { continues: true, text, field } : { continues: screen.kind !== 'end', text };
    }
    if (!fixedReply) outcome = reply.continues ? 'con' : 'end';
    const state = stateOf(snap);
    const cfgResume = cfg.RESUME_WINDOW_S > 0 && reply.continues && !resumeOffer && screen.kind !== 'action';
    // Once an action has run, its outcome is the truth: a failed save must not turn it into
    // "service unavailable" (a retry finds the saved action state and re-runs it idempotently).
    let saveFailed = false;
    // The reply is final: if an earlier one already promised an SMS (the hop ran late), this is
    // what the SMS says. An outcome of 'processing' is a promise the action keeps itself, and a
    // late action result is settled by runAction.
    if (actionOutcome !== 'processing' && !hop.lateHandled) {
      gate.settle(() => this.sendLate(hop, reply.continues ? msg(menu, 'incomplete', ctx.lang) : reply.text));
    }
    const storedMark = markToStore(mode, mark, cfg.USSD_REPEAT_WINDOW_MS);
    const w = await this.write(k, first, {
      token,
      mark: storedMark,
      reply,
      state,
      n: n + 1,
      machineVersion: menu.version,
      resumeOffer,
      // The resume pointer outlives the session: it never carries PINs or codes.
      resume: !reply.continues ? 'clear' : cfgResume ? { sid, version: menu.version, state: without(state, menu.secrets) } : 'keep',
      lang: ctx.lang !== storedLang ? ctx.lang : undefined,
      phone: phone.e164,
      unlock: true,
    }, mode, mark).catch((err: unknown) => {
      if (!actionName) throw err;
      this.app.logger.error({ sessionId: req.sessionId, action: actionName, err: (err as Error)?.message ?? String(err) }, 'ussd session save failed after the action ran');
      saveFailed = true;
      return '';
    });
    if (w === '' && !saveFailed) this.app.logger.warn({ sessionId: req.sessionId }, 'ussd session lock expired before save; state not saved');
    // An ended session takes no more hops; a failed write leaves Redis the only truth.
    this.remember(sid, reply.continues ? w : '', {
      kind: 'session', mark: storedMark, state, n: n + 1, machineVersion: menu.version, resumeOffer, closed: '',
    }, phone.e164);
    return { reply, screen: fixedReply && resumeOffer ? 'resume' : screen.id, outcome, ...(actionName ? { action: actionName } : {}), ...(actionOutcome ? { actionOutcome } : {}) };
  }

  /** An earlier version of `menu` (same service code) still known, else undefined (the record counts as expired). */
  private earlier(menu: CompiledMenu, version: string): CompiledMenu | undefined {
    const old = this.byVersion.get(version);
    return old && canonicalCode(old.serviceCode) === canonicalCode(menu.serviceCode) ? old : undefined;
  }

  /** The phone's dropped session, if it can be offered for resuming (`sid`: this request's session key). */
  private resumable(menu: CompiledMenu, p: ResumePointer | undefined, sid: string, shortcut: string): SessionState | undefined {
    if (!p || this.app.config.RESUME_WINDOW_S <= 0) return undefined;
    if (p.version !== menu.version) return undefined;
    // A first request with text is either a dial-in shortcut (the subscriber wants something
    // specific) or the same session continuing after its record expired.
    if (shortcut !== '' && p.sid !== sid) return undefined;
    const screen = menu.screens.get(p.state.v);
    if (!screen || (screen.kind !== 'options' && screen.kind !== 'input') || p.state.v === menu.start) return undefined;
    return p.state;
  }

  private async runAction(hop: Hop, screen: Screen, ctx: MenuContext, onLate: (late: ActionResult) => void): Promise<ActionResult> {
    const { req, phone, after, deadlineAt, gate } = hop;
    const menu = hop.menu!;
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
      void p.then((late) => logger.info({ action: name, sessionId: req.sessionId, outcome: late.outcome, ms: Date.now() - started }, 'menu action finished after the deadline; the subscriber was told to try again'));
      return { outcome: 'failure', reason: MSG.try_again };
    }
    // Committed: the screen promises an SMS, and the SMS carries the outcome once it is known.
    hop.lateHandled = true;
    gate.promiseSms();
    void p.then((late) => {
      logger.info({ action: name, sessionId: req.sessionId, outcome: late.outcome, ms: Date.now() - started }, 'menu action finished after the deadline');
      onLate(late);
    });
    return { outcome: 'processing' };
  }

  /** The late outcome of an action, as the screen it leads to would have said it: by SMS. */
  private settleLate(hop: Hop, atAction: AnyMachineSnapshot, late: ActionResult): void {
    // 'processing' from the action itself: its own flow (an order's SMS) keeps the promise.
    if (late.outcome === 'processing') return;
    try {
      const menu = hop.menu!;
      const [next] = transition(steppingLogic(menu.machine), atAction, outEvent(atAction, late));
      const screen = screenOf(menu, next);
      const ctx = next.context as MenuContext;
      const text = screen.kind === 'end' ? renderScreen(menu, screen, ctx, 1000) : msg(menu, 'incomplete', ctx.lang);
      hop.gate.settle(() => this.sendLate(hop, text));
    } catch (err) {
      this.app.logger.error({ sessionId: hop.req.sessionId, err: (err as Error).message }, 'late action outcome could not be rendered');
      hop.gate.settle(() => this.sendLate(hop, msg(hop.menu, 'incomplete', (atAction.context as MenuContext).lang)));
    }
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
