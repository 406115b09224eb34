// One hop of a USSD session: lock+load (one script), pure xstate transition, save, run the
// action effect against the deadline, transition on its outcome, save+unlock (one script).
import { randomBytes } from 'node:crypto';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { AppContext } from '../app-context.js';
import type { Redis } from '../redis.js';
import type { ChannelAdapter, UssdReply, UssdRequest } from '../channels/types.js';
import type { Phone } from '../lib/phone.js';
import { MSG } from '../menus/messages.js';
import { renderScreen } from '../menus/render.js';
import type { CompiledMenu, MenuContext, MenuEvent, Screen } from '../menus/types.js';
import type { ActionContext, ActionResult, Lang } from './actions.js';
import type { AfterReply } from './after-reply.js';
import { extensionOf, latestInput } from './input.js';
import { restoreSnapshot, steppingLogic } from './machine-cache.js';
import { SessionStore, type Loaded, type SaveArgs, type SessionKeys } from './session-store.js';

export interface HopResult {
  reply: UssdReply;
  screen: string;
  /** con | end | replay | busy | unknown_code | ended */
  outcome: string;
  action?: string;
  actionOutcome?: string;
}

const TIMEOUT = Symbol('timeout');
const tokenPrefix = randomBytes(6).toString('hex');
let tokenSeq = 0;

export const encodeReply = (r: UssdReply): string => (r.continues ? 'C' : 'E') + r.text;
export const decodeReply = (s: string): UssdReply => ({ continues: s[0] === 'C', text: s.slice(1) });

interface Stored { v: string; c: MenuContext }

function encodeSnapshot(snap: AnyMachineSnapshot, drop?: Set<string>): string {
  const c = snap.context as MenuContext;
  let v = c.v;
  if (drop?.size && hasAny(v, drop)) {
    v = {};
    for (const [k, val] of Object.entries(c.v)) if (!drop.has(k)) v[k] = val;
  }
  // Only what a restore needs: empty fields are left out to keep the record small.
  const small: Partial<MenuContext> = { v, h: c.h, lang: c.lang, ph: c.ph };
  if (c.pg) small.pg = c.pg;
  if (c.e) small.e = c.e;
  if (c.k) small.k = c.k;
  return JSON.stringify({ v: snap.value, c: small });
}

function hasAny(v: Record<string, string>, keys: Set<string>): boolean {
  for (const k of keys) if (Object.hasOwn(v, k)) return true;
  return false;
}

function decodeSnapshot(s: string): Stored {
  const o = JSON.parse(s) as { v: string; c: Partial<MenuContext> };
  return storedOf(o.v, o.c);
}

/** What decodeSnapshot(encodeSnapshot(snap)) gives, without the JSON round trip. */
function storedOf(value: string, c: Partial<MenuContext>): Stored {
  return { v: value, c: { v: c.v ?? {}, h: c.h ?? [], pg: c.pg ?? 0, e: c.e ?? '', lang: c.lang === 'sw' ? 'sw' : 'en', ph: c.ph ?? '', ...(c.k ? { k: c.k } : {}) } };
}

// Module-level helpers rather than closures made on every hop (each costs under tsx).
function inEvent(input: string, sessionId: string, n: number, lim: number): MenuEvent {
  return { type: 'IN', input, key: `${sessionId}:${n}`, lim };
}

function screenOf(menu: CompiledMenu, s: AnyMachineSnapshot): Screen {
  return menu.screens.get(s.value as string)!;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A record as this process wrote it; `decoded`, when present, is its snapshot already parsed
 * and stands in for `snapshot` (xstate never changes a context in place, so the objects the hop
 * ended with are the next hop's start).
 */
type SessionRecord = Extract<Loaded, { kind: 'session' }> & { decoded?: Stored };

/** A record this process wrote, and its write id. */
interface Written { w: string; rec: SessionRecord }

/** Sessions this process answered last, at most this many (each about 1 KB). */
const RECENT_MAX = 4_096;

/**
 * An ENDed record whose session typed PINs or codes keeps its cumulative text (which holds
 * them) only this long: enough to replay the last reply to an aggregator's retry.
 */
const ENDED_WITH_SECRETS_TTL_S = 10;

/**
 * How advance() stores the hop's first write. 'locked': under the lock hop() took with load.
 * 'try': as a compare-and-set against `w`, the version this process wrote last, with no lock
 * round trip before (SessionStore.try); if someone else wrote since, the script answers as load
 * would and advance() throws Stale so the hop starts again from what Redis holds.
 */
type FirstWrite = { mode: 'locked' } | { mode: 'try'; w: string; text: string; lockMs: number };

class Stale {
  constructor(readonly loaded: Loaded) {}
}

export class UssdEngine {
  private readonly byCode = new Map<string, CompiledMenu>();
  private readonly store: SessionStore;
  private readonly margin: number;
  private readonly keyPrefix: SessionKeys;
  /** The last record this process wrote per session: the next hop's starting point, if still current. */
  private readonly recent = new Map<string, Written>();

  constructor(private readonly app: AppContext, menus: CompiledMenu[], redis: Redis = app.redis) {
    for (const m of menus) this.byCode.set(m.serviceCode, m);
    this.store = new SessionStore(redis);
    // app.key('sess', id) is prefix + 'sess:' + id: the fixed part once, not per hop.
    const k = app.key;
    this.keyPrefix = { sess: k('sess', ''), lock: k('sesslock', ''), resume: k('resume', ''), lang: k('lang', '') };
    const d = app.config.USSD_DEADLINE_MS;
    this.margin = Math.max(20, Math.min(250, Math.floor(d / 8)));
  }

  /** When the reply must be on its way, for a request that arrived at startedAt. */
  deadlineAt(startedAt: number): number {
    return startedAt + this.app.config.USSD_DEADLINE_MS - this.margin;
  }

  menuFor(serviceCode: string): { menu: CompiledMenu; extra: string } | undefined {
    const code = serviceCode.replace(/\s+/g, '');
    if (code === '') {
      const m = this.byCode.get(this.app.config.USSD_SERVICE_CODE);
      return m ? { menu: m, extra: '' } : undefined;
    }
    const exact = this.byCode.get(code);
    if (exact) return { menu: exact, extra: '' };
    for (const m of this.byCode.values()) {
      const extra = extensionOf(code, m.serviceCode);
      if (extra !== undefined) return { menu: m, extra };
    }
    return undefined;
  }

  keys(sessionId: string, phone: Phone): SessionKeys {
    const p = this.keyPrefix;
    return { sess: p.sess + sessionId, lock: p.lock + sessionId, resume: p.resume + phone.msisdn, lang: p.lang + phone.msisdn };
  }

  async hop(channel: ChannelAdapter, req: UssdRequest, phone: Phone, after: AfterReply, startedAt: number): Promise<HopResult> {
    const found = this.menuFor(req.serviceCode);
    if (!found) {
      return { reply: { continues: false, text: `${MSG.unknown_code.en}\n${MSG.unknown_code.sw}` }, screen: '-', outcome: 'unknown_code' };
    }
    const { menu, extra } = found;
    const cfg = this.app.config;
    const k = this.keys(req.sessionId, phone);
    const token = `${tokenPrefix}${++tokenSeq}`;
    const deadlineAt = this.deadlineAt(startedAt);
    const lockMs = cfg.USSD_DEADLINE_MS + 1000;

    let saved = false;
    try {
      let loaded: Loaded | undefined;
      // Most hops reach the process that answered the previous one: start from the record it
      // wrote and store the result in one round trip, unless someone else wrote since.
      // (A repeat of that hop's own text is a replay: load answers it without computing anything.)
      const last = this.recent.get(req.sessionId);
      if (last && last.rec.text !== req.text) {
        try {
          const r = await this.advance(menu, channel, req, phone, after, last.rec, extra, k, token, deadlineAt, { mode: 'try', w: last.w, text: last.rec.text, lockMs });
          saved = true;
          return r;
        } catch (err) {
          if (!(err instanceof Stale)) throw err;
          // Unless a concurrent hop of this session has already written a newer one.
          if (this.recent.get(req.sessionId) === last) this.recent.delete(req.sessionId);
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
            return { reply: { continues: false, text: MSG.processing.en }, screen: '-', outcome: 'busy' };
          }
          await sleep(wait);
          wait = Math.min(wait * 2, 40);
        }
        loaded = await this.store.load(k, req.text, token, lockMs);
      }
      if (loaded.kind === 'replay') {
        saved = true;
        return { reply: decodeReply(loaded.reply), screen: '-', outcome: 'replay' };
      }
      const r = await this.advance(menu, channel, req, phone, after, loaded, extra, k, token, deadlineAt, { mode: 'locked' });
      saved = true;
      return r;
    } finally {
      // Our token only ever unlocks our own lock: harmless when we never took it.
      if (!saved) await this.store.unlock(k, token).catch(() => undefined);
    }
  }

  /** Stores one write of the hop, the first one as `first` says, later ones under the lock: the write id, '' if the lock was lost. */
  private async write(k: SessionKeys, first: FirstWrite, a: SaveArgs): Promise<string> {
    if (first.mode === 'locked') return this.store.save(k, a);
    const r = await this.store.try(k, first, first.lockMs, a);
    if (r.kind !== 'written') throw new Stale(r);
    return r.w;
  }

  private remember(sessionId: string, w: string, rec: SessionRecord): void {
    if (!w) {
      this.recent.delete(sessionId);
      return;
    }
    // Oldest session first out: a session lives minutes, so insertion order is age order enough.
    if (this.recent.size >= RECENT_MAX && !this.recent.has(sessionId)) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(sessionId, { w, rec });
  }

  private async advance(
    menu: CompiledMenu, channel: ChannelAdapter, req: UssdRequest, phone: Phone, after: AfterReply,
    loaded: Exclude<Loaded, { kind: 'replay' | 'busy' }>, extra: string, k: SessionKeys, token: string, deadlineAt: number,
    first: FirstWrite,
  ): Promise<HopResult> {
    const cfg = this.app.config;
    const step = steppingLogic(menu.machine);
    const lim = channel.screenMaxChars;
    let n = 0;
    let storedLang = '';
    let snap: AnyMachineSnapshot;
    let resumeOffer = '';
    let fixedReply: UssdReply | undefined;
    let actions: Array<{ type: string; params?: unknown }> = [];
    let outcome = 'con';
    let actionName: string | undefined;
    let actionOutcome: string | undefined;
    let secretsTyped = false;

    let stored: Stored | undefined;
    if (loaded.kind === 'session' && loaded.machineVersion === menu.version) {
      // A record we cannot read counts as expired rather than failing every hop of the session.
      try { stored = (loaded as SessionRecord).decoded ?? decodeSnapshot(loaded.snapshot); } catch { stored = undefined; }
    }
    if (loaded.kind === 'session' && stored) {
      n = loaded.n;
      const input = latestInput(loaded.text, req.text, channel.cumulative);
      storedLang = stored.c.lang;
      snap = restoreSnapshot(menu.machine, stored.v, stored.c);
      if (loaded.resumeOffer) {
        if (input === '1') {
          const r = decodeSnapshot(loaded.resumeOffer);
          snap = restoreSnapshot(menu.machine, r.v, { ...r.c, e: '', pg: 0, lang: stored.c.lang, ph: phone.e164 });
        } else if (input !== '2' && input !== menu.keys.home && input !== menu.keys.back) {
          resumeOffer = loaded.resumeOffer;
          fixedReply = { continues: true, text: `${MSG.opt[stored.c.lang]}\n${MSG.resume[stored.c.lang]}` };
        }
      } else {
        const screen = screenOf(menu, snap);
        if (screen.kind === 'end') {
          fixedReply = { continues: false, text: MSG.ended[stored.c.lang] };
          outcome = 'ended';
        } else if (screen.kind === 'action') {
          // The process that started this action died before saving its outcome: run it again
          // with the same idempotency key (the handler deduplicates on it).
          actions = [{ type: 'run', params: { action: screen.action, screen: screen.id } }];
        } else {
          [snap, actions] = transition(step, snap, inEvent(input, req.sessionId, n, lim));
        }
      }
    } else {
      let lang: Lang = 'en';
      if (loaded.kind === 'new') {
        lang = loaded.lang === 'sw' ? 'sw' : 'en';
        storedLang = lang;
      } else {
        n = loaded.n;
        try { lang = ((loaded as SessionRecord).decoded ?? decodeSnapshot(loaded.snapshot)).c.lang; } catch { /* unreadable: English */ }
        storedLang = lang;
      }
      snap = initialTransition(step, { v: {}, h: [], pg: 0, e: '', lang, ph: phone.e164 } satisfies MenuContext)[0];
      const offer = loaded.kind === 'new' ? this.resumable(menu, loaded.resume, req) : undefined;
      const shortcut = loaded.kind === 'new' ? req.text || extra : '';
      if (offer) {
        resumeOffer = offer;
        fixedReply = { continues: true, text: MSG.resume[lang] };
      } else if (shortcut) {
        // Dial-in shortcut (*860*30*1*2#): replay the inputs, stopping at the first one the
        // menu rejects or at an action (which then runs as if typed).
        for (const seg of shortcut.split('*')) {
          [snap, actions] = transition(step, snap, inEvent(seg, req.sessionId, n, lim));
          const s = screenOf(menu, snap);
          if ((snap.context as MenuContext).e || s.kind !== 'options' && s.kind !== 'input') break;
        }
      }
    }

    // Effects, after the state that triggered them is saved (DESIGN trap 4).
    for (let chain = 0; chain < 4; chain++) {
      const run = actions.find((a) => a.type === 'run');
      if (!run) break;
      const screen = screenOf(menu, snap);
      actionName = screen.action;
      const pending = encodeSnapshot(snap);
      secretsTyped ||= hasAny((snap.context as MenuContext).v, menu.secrets);
      const w = await this.write(k, first, {
        token, ttlS: cfg.SESSION_TTL_S, text: req.text, reply: '', snapshot: pending, n,
        machineVersion: menu.version, resumeOffer: '', resume: '-', resumeTtlS: 1, lang: '', langTtlS: 1, unlock: false,
      });
      first = { mode: 'locked' }; // the lock is ours from here until the final write
      this.remember(req.sessionId, w, { kind: 'session', text: req.text, snapshot: pending, n, machineVersion: menu.version, resumeOffer: '' });
      if (!w) {
        // This hop stalled past its lock (a chained action, a long pause) and someone else may
        // now be running this step: an action whose state is not saved must never start.
        this.app.logger.warn({ sessionId: req.sessionId, action: actionName }, 'ussd session lock lost before an action; action not started');
        const lang = (snap.context as MenuContext).lang;
        return { reply: { continues: false, text: MSG.processing[lang] }, screen: screen.id, outcome: 'lock_lost', ...(actionName ? { action: actionName } : {}) };
      }
      const result = await this.runAction(menu, screen, snap.context as MenuContext, req, phone, after, deadlineAt);
      actionOutcome = result.outcome;
      const ctx = snap.context as MenuContext;
      const vars: Record<string, string> = { ...(result.vars ?? {}) };
      vars.reason = result.reason?.[ctx.lang] ?? vars.reason ?? '';
      [snap, actions] = transition(step, snap, { type: 'OUT', outcome: result.outcome, vars });
    }

    const ctx = snap.context as MenuContext;
    const screen = screenOf(menu, snap);
    const reply = fixedReply ?? { continues: screen.kind !== 'end', text: renderScreen(menu, screen, ctx, lim) };
    if (!fixedReply) outcome = reply.continues ? 'con' : 'end';
    const snapshot = encodeSnapshot(snap);
    const cfgResume = cfg.RESUME_WINDOW_S > 0 && reply.continues && !resumeOffer && screen.kind !== 'action';
    // Once an action has run, its outcome is the truth: a failed save must not turn it into
    // "service unavailable" (a retry finds the saved action state and re-runs it idempotently).
    let saveFailed = false;
    const w = await this.write(k, first, {
      token,
      ttlS: !reply.continues && secretsTyped ? Math.min(cfg.SESSION_TTL_S, ENDED_WITH_SECRETS_TTL_S) : cfg.SESSION_TTL_S,
      text: req.text,
      reply: encodeReply(reply),
      snapshot,
      n: n + 1,
      machineVersion: menu.version,
      resumeOffer,
      // The resume pointer outlives the session: it never carries PINs or codes.
      resume: !reply.continues ? '' : cfgResume ? `${req.sessionId}\n${menu.version}\n${hasAny(ctx.v, menu.secrets) ? encodeSnapshot(snap, menu.secrets) : snapshot}` : '-',
      resumeTtlS: cfg.SESSION_TTL_S + cfg.RESUME_WINDOW_S,
      lang: ctx.lang !== storedLang ? ctx.lang : '',
      langTtlS: cfg.LANGUAGE_TTL_S,
      unlock: true,
    }).catch((err: unknown) => {
      if (!actionName) throw err;
      this.app.logger.error({ sessionId: req.sessionId, action: actionName, err: (err as Error)?.message ?? String(err) }, 'ussd session save failed after the action ran');
      saveFailed = true;
      return '';
    });
    if (w === '' && !saveFailed) this.app.logger.warn({ sessionId: req.sessionId }, 'ussd session lock expired before save; state not saved');
    // An ended session takes no more hops; a failed write leaves Redis the only truth.
    this.remember(req.sessionId, reply.continues ? w : '', {
      // The parsed form only: keeping the JSON too would double what every hop leaves alive.
      kind: 'session', text: req.text, snapshot: '', n: n + 1, machineVersion: menu.version, resumeOffer, decoded: storedOf(snap.value as string, ctx),
    });
    return { reply, screen: fixedReply && resumeOffer ? 'resume' : screen.id, outcome, ...(actionName ? { action: actionName } : {}), ...(actionOutcome ? { actionOutcome } : {}) };
  }

  /** The phone's dropped session, if it can be offered for resuming. */
  private resumable(menu: CompiledMenu, raw: string, req: UssdRequest): string | undefined {
    if (!raw || this.app.config.RESUME_WINDOW_S <= 0) return undefined;
    const [sid, version, snapshot] = raw.split('\n', 3) as [string, string?, string?];
    if (version !== menu.version || !snapshot) return undefined;
    // A first request with text is either a dial-in shortcut (the subscriber wants something
    // specific) or the same session continuing after its record expired.
    if (req.text !== '' && sid !== req.sessionId) return undefined;
    try {
      const s = decodeSnapshot(snapshot);
      const screen = menu.screens.get(s.v);
      if (!screen || (screen.kind !== 'options' && screen.kind !== 'input') || s.v === menu.start) return undefined;
    } catch {
      return undefined;
    }
    return snapshot;
  }

  private async runAction(
    menu: CompiledMenu, screen: Screen, ctx: MenuContext, req: UssdRequest, phone: Phone, after: AfterReply, deadlineAt: number,
  ): Promise<ActionResult> {
    const name = screen.action!;
    const logger = this.app.logger;
    const handler = this.app.actions.get(name);
    if (!handler) {
      logger.error({ action: name, menu: menu.id }, 'no handler registered for menu action');
      return { outcome: 'failure' };
    }
    const ac = new AbortController();
    const actx: ActionContext = {
      action: name,
      params: screen.params ?? {},
      sessionId: req.sessionId,
      menuId: menu.id,
      serviceCode: menu.serviceCode,
      phone: phone.e164,
      ...(req.networkCode ? { networkCode: req.networkCode } : {}),
      lang: ctx.lang,
      values: { ...ctx.v },
      idempotencyKey: ctx.k || `${req.sessionId}:${screen.id}`,
      signal: ac.signal,
      logger,
      afterReply: (fn) => after.add(fn),
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
    // The action keeps going; its result reaches the subscriber by SMS, not on this screen.
    void p.then((late) => logger.info({ action: name, sessionId: req.sessionId, outcome: late.outcome, ms: Date.now() - started }, 'menu action finished after the deadline'));
    return { outcome: 'processing' };
  }
}
