// The pure part of a hop (docs/architecture.md, "The life of a hop", and rule 4): from the
// record as loaded (or none) and the request, where the session goes, what it answers, and which
// action must run first. No I/O, no clock, no Redis strings: the runner (engine.ts) loads, saves
// the pending state before it runs an action, feeds the action's result back through
// afterAction(), and stores what conclude() gives. test/ussd/step.unit.test.ts walks it alone.
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ChannelAdapter, ReplyField, UssdReply, UssdRequest } from '../channels/types.js';
import { msg } from '../menus/messages.js';
import { renderScreen } from '../menus/render.js';
import type { CompiledMenu, Lang, MenuContext, MenuEvent, Screen } from '../menus/types.js';
import type { ActionResult } from './actions.js';
import { answersOf, canonicalCode, latestInput } from './input.js';
import { restoreSnapshot, steppingLogic } from './machine-cache.js';
import type { Loaded, ResumeWrite, SessionRecord, SessionState } from './session-store.js';

export interface MenuMatch {
  menu: CompiledMenu;
  extra: string;
}

/** The menus a hop may need besides the one its request names (the engine's registry). */
export interface MenuLookup {
  /** The menu a dial string names, with the extension to apply (UssdEngine.menuFor). */
  menuFor(code: string): MenuMatch | undefined;
  /** The menu of a version still known (current or earlier). */
  menuOfVersion(version: string): CompiledMenu | undefined;
}

/** What the step reads of the hop. */
export interface HopFacts {
  /** The menu the request names (always for cumulative channels and starts; else undefined). */
  found: MenuMatch | undefined;
  channel: Pick<ChannelAdapter, 'inputStyle' | 'starts' | 'screenMaxChars'>;
  req: Pick<UssdRequest, 'kind' | 'input'>;
  phone: { e164: string };
  /** The session's key (sessionKeyOf): a resume pointer names the session it came from by it. */
  sid: string;
}

export interface StepOptions {
  /** RESUME_WINDOW_S > 0: a dropped session may be offered, and continuing screens leave a pointer. */
  resume: boolean;
  /** A new session record's instance id (the runner's: it takes the clock and randomness). */
  newInstance: () => string;
}

/** The record as loaded, without the answers that need no step. */
export type Start = Extract<Loaded, { kind: 'session' | 'new' }>;

/** Answers the step gives without moving the session: nothing is written, the lock is released. */
export type Refusal = 'foreign' | 'expired' | 'unknown_code';

/** Where a hop stands after step() or afterAction(). */
export interface Stepped {
  menu: CompiledMenu;
  /** The xstate snapshot the hop is at (only this module reads it). */
  snap: AnyMachineSnapshot;
  /** The state to store: the snapshot's screen and context. */
  state: SessionState;
  /** The record's hop count before this hop. */
  n: number;
  /** The language the phone is known to have chosen ('' none): only a change is stored. */
  storedLang: Lang;
  /** The channel's screen size. */
  lim: number;
  /** The dropped session offered for resuming (the reply is then the offer). */
  resumeOffer: SessionState | undefined;
  /** A reply decided without rendering the screen: the resume offer, "session ended". */
  fixedReply: UssdReply | undefined;
  /** 'ended' with the fixed "session ended" reply, else 'con' until conclude(). */
  outcome: string;
  /** The screen the session was on before the hop ('' for a new session). */
  from: string;
  /** The effect to perform next: run this screen's action, its state saved first (rule 4). */
  run: Screen | undefined;
}

/** What the hop stores and answers once no action is left to run. */
export interface Concluded {
  reply: UssdReply;
  /** con | end | ended */
  outcome: string;
  /** The screen the reply shows ('resume' for the offer). */
  screen: string;
  state: SessionState;
  n: number;
  resumeOffer: SessionState | undefined;
  resume: ResumeWrite;
  /** The language to remember, when it changed. */
  lang: Lang | undefined;
}

type Actions = Array<{ type: string; params?: unknown }>;

/**
 * The hop from the record as loaded: a refusal, or where the session goes with the first action
 * to run (the session's state at it is saved before it runs).
 */
export function step(menus: MenuLookup, hop: HopFacts, loaded: Start, o: StepOptions): Stepped | Refusal {
  const { channel, req, phone } = hop;
  const latest = channel.inputStyle === 'latest';
  const rec = loaded.kind === 'session' ? loaded : undefined;
  let menu = hop.found?.menu;
  let extra = hop.found?.extra ?? '';

  // The record's menu: the one this request names (a record of another version counts as
  // expired), or for a later request of a latest-only session, the menu it began on.
  // Since a reload, the record may name an earlier version of the menu this request names: the
  // session finishes on the version it began on.
  const recMenu = rec
    ? menu
      ? rec.machineVersion === menu.version
        ? menu
        : earlier(menus, menu, rec.machineVersion)
      : menus.menuOfVersion(rec.machineVersion)
    : undefined;
  // A record we cannot read (no state) counts as expired rather than failing every hop of the session.
  const stored = rec && recMenu ? rec.state : undefined;
  // A record written before records kept their phone still names it in its snapshot.
  if (stored && stored.c.ph && stored.c.ph !== phone.e164) return 'foreign';

  // A new session, or the next hop of the one on record?
  let fresh: boolean;
  if (!latest)
    fresh = !stored; // cumulative: the text itself says where the session is
  else if (channel.starts === 'explicit') {
    // The aggregator's start flag always begins anew: an old record under a reused id must
    // never lend its screens (a confirmation among them) to a new session.
    fresh = req.kind === 'start';
    if (!fresh && !stored) return 'expired';
  } else {
    // Implicit starts (Airtel): a session we hold nothing open for, whose input is a dialled code.
    const over = !stored || !!rec!.closed || recMenu!.screens.get(stored.v)?.kind === 'end';
    const dialled = over && req.input !== '' ? menus.menuFor(req.input) : undefined;
    fresh = !!dialled;
    if (dialled) ({ menu, extra } = dialled);
    else if (!stored) return 'unknown_code';
  }
  if (!fresh) return onRecord(recMenu!, hop, rec!, stored!, latest, o);
  return begin(menu!, hop, loaded, extra, latest, o);
}

/** The next hop of the session on record. */
function onRecord(menu: CompiledMenu, hop: HopFacts, rec: SessionRecord, stored: SessionState, latest: boolean, o: StepOptions): Stepped {
  const lim = hop.channel.screenMaxChars;
  const n = rec.n;
  const lang = stored.c.lang;
  // The session's instance: kept in the snapshot; a record without one (an older release) gets one now.
  const instance = stored.c.i ?? o.newInstance();
  let snap = restoreSnapshot(menu.machine, stored.v, { ...stored.c, i: instance });
  const input = latest ? hop.req.input : latestInput(rec.mark, hop.req.input, true);
  let resumeOffer: SessionState | undefined;
  let fixedReply: UssdReply | undefined;
  let outcome = 'con';
  let actions: Actions | undefined;
  if (rec.closed) {
    // An end signal closed it (the subscriber hung up, the aggregator gave up).
    fixedReply = { continues: false, text: msg(menu, 'ended', lang) };
    outcome = 'ended';
  } else if (rec.resumeOffer) {
    if (input === '1') {
      const r = rec.resumeOffer;
      // The resumed screens continue under this session's instance: keys of the dropped
      // session (and its orders) are never met again.
      snap = restoreSnapshot(menu.machine, r.v, { ...r.c, e: '', pg: 0, lang, ph: hop.phone.e164, i: instance });
    } else if (input !== '2' && input !== menu.keys.home && input !== menu.keys.back) {
      resumeOffer = rec.resumeOffer;
      fixedReply = { continues: true, text: `${msg(menu, 'opt', lang)}\n${msg(menu, 'resume', lang)}` };
    }
  } else {
    const screen = screenOf(menu, snap);
    if (screen.kind === 'end') {
      fixedReply = { continues: false, text: msg(menu, 'ended', lang) };
      outcome = 'ended';
    } else if (screen.kind === 'action') {
      // The process that started this action died before saving its outcome: run it again
      // with the same idempotency key (the handler deduplicates on it).
      actions = RERUN;
    } else {
      // "3*1" typed at one prompt, or "0*1*00": each answer in turn.
      [snap, actions] = applyAnswers(menu, snap, input, instance, n, lim);
    }
  }
  return { menu, snap, state: stateOf(snap), n, storedLang: lang, lim, resumeOffer, fixedReply, outcome, from: stored.v, run: runOf(menu, snap, actions) };
}

/** The re-run of an action whose outcome was never saved. */
const RERUN: Actions = [{ type: 'run' }];

/** A new session (no record, an expired one, or a new start over a reused id). */
function begin(menu: CompiledMenu, hop: HopFacts, loaded: Start, extra: string, latest: boolean, o: StepOptions): Stepped {
  const { req } = hop;
  const lim = hop.channel.screenMaxChars;
  // The phone's remembered language when this menu speaks it, else the menu's default.
  let lang: Lang = menu.languages[0] ?? 'en';
  let n = 0;
  if (loaded.kind === 'new') {
    if (loaded.lang && menu.languages.includes(loaded.lang)) lang = loaded.lang;
  } else {
    // A cumulative record of another menu version goes on counting; a new session over a
    // reused id (a start, or Airtel's dialled code) counts from 0 like any new one.
    if (!latest) n = loaded.n;
    const l = loaded.state?.c.lang; // unreadable: the default
    if (l !== undefined && menu.languages.includes(l)) lang = l;
  }
  const instance = o.newInstance();
  let snap = initialTransition(steppingLogic(menu.machine), { v: {}, h: [], pg: 0, e: '', lang, ph: hop.phone.e164, i: instance } satisfies MenuContext)[0];
  let actions: Actions | undefined;
  let resumeOffer: SessionState | undefined;
  let fixedReply: UssdReply | undefined;
  // A deep link: the dialled code's extension, or (cumulative channels, first request) the text.
  const shortcut = latest ? extra : loaded.kind === 'new' ? req.input || extra : '';
  const offer = loaded.kind === 'new' && o.resume ? resumable(menu, loaded, hop.sid, shortcut) : undefined;
  if (offer) {
    resumeOffer = offer;
    fixedReply = { continues: true, text: msg(menu, 'resume', lang) };
  } else if (shortcut) {
    // Dial-in shortcut (*860*30*1*2#): replay the inputs, stopping at the first one the
    // menu rejects or at an action (which then runs as if typed).
    [snap, actions] = applyAnswers(menu, snap, shortcut, instance, n, lim);
  }
  return { menu, snap, state: stateOf(snap), n, storedLang: lang, lim, resumeOffer, fixedReply, outcome: 'con', from: '', run: runOf(menu, snap, actions) };
}

/** The phone's dropped session, if it can be offered for resuming (`sid`: this request's session key). */
function resumable(menu: CompiledMenu, loaded: Extract<Start, { kind: 'new' }>, sid: string, shortcut: string): SessionState | undefined {
  const p = loaded.resume;
  if (!p || p.version !== menu.version) return undefined;
  // A first request with text is either a dial-in shortcut (the subscriber wants something
  // specific) or the same session continuing after its record expired.
  if (shortcut !== '' && p.sid !== sid) return undefined;
  const screen = menu.screens.get(p.state.v);
  if (!screen || (screen.kind !== 'options' && screen.kind !== 'input') || p.state.v === menu.start) return undefined;
  return p.state;
}

/** Feeds an action's result back: where the session goes from the action screen `at`. */
export function afterAction(at: Stepped, result: ActionResult): Stepped {
  const [snap, actions] = transition(steppingLogic(at.menu.machine), at.snap, outEvent(at.snap, result));
  return { ...at, snap, state: stateOf(snap), run: runOf(at.menu, snap, actions) };
}

/** The reply and what to store, once no action is left to run (or the chain limit is reached). */
export function conclude(s: Stepped, hop: Pick<HopFacts, 'sid'>, o: Pick<StepOptions, 'resume'>): Concluded {
  const { menu, snap, fixedReply, resumeOffer, state } = s;
  const ctx = snap.context as MenuContext;
  const screen = screenOf(menu, snap);
  let reply = fixedReply;
  if (!reply) {
    const field = fieldOf(screen);
    const text = renderScreen(menu, screen, ctx, s.lim);
    reply = field ? { continues: true, text, field } : { continues: screen.kind !== 'end', text };
  }
  const offerResume = o.resume && reply.continues && !resumeOffer && screen.kind !== 'action';
  return {
    reply,
    outcome: fixedReply ? s.outcome : reply.continues ? 'con' : 'end',
    screen: fixedReply && resumeOffer ? 'resume' : screen.id,
    state,
    n: s.n + 1,
    resumeOffer,
    // The resume pointer outlives the session: it never carries PINs or codes.
    resume: !reply.continues ? 'clear' : offerResume ? { sid: hop.sid, version: menu.version, state: withoutSecrets(state, menu.secrets) } : 'keep',
    lang: ctx.lang !== s.storedLang ? ctx.lang : undefined,
  };
}

/** The reply when the lock was lost before an action could start (the action never starts). */
export function lockLost(s: Stepped): UssdReply {
  return { continues: false, text: msg(s.menu, 'still_busy', (s.snap.context as MenuContext).lang) };
}

/** The SMS text promised for a hop whose reply did not carry its outcome: "incomplete". */
export function incompleteText(s: Stepped): string {
  return msg(s.menu, 'incomplete', (s.snap.context as MenuContext).lang);
}

/**
 * The late outcome of the action at `at`, as the screen it leads to would have said it (for the
 * SMS a committed reply promised); throws when it cannot be rendered.
 */
export function lateText(at: Stepped, late: ActionResult): string {
  const [next] = transition(steppingLogic(at.menu.machine), at.snap, outEvent(at.snap, late));
  const screen = screenOf(at.menu, next);
  const ctx = next.context as MenuContext;
  return screen.kind === 'end' ? renderScreen(at.menu, screen, ctx, 1000) : msg(at.menu, 'incomplete', ctx.lang);
}

/** An earlier version of `menu` (same service code) still known, else undefined (the record counts as expired). */
function earlier(menus: MenuLookup, menu: CompiledMenu, version: string): CompiledMenu | undefined {
  const old = menus.menuOfVersion(version);
  return old && canonicalCode(old.serviceCode) === canonicalCode(menu.serviceCode) ? old : undefined;
}

function stateOf(snap: AnyMachineSnapshot): SessionState {
  return { v: snap.value as string, c: snap.context as MenuContext };
}

/** `s` without the values named in `drop`: the same object when it holds none of them. */
function withoutSecrets(s: SessionState, drop: Set<string>): SessionState {
  if (!drop.size || !hasAny(s.c.v, drop)) return s;
  const v: Record<string, string> = {};
  for (const [k, val] of Object.entries(s.c.v)) if (!drop.has(k)) v[k] = val;
  return { v: s.v, c: { ...s.c, v } };
}

function hasAny(v: Record<string, string>, keys: Set<string>): boolean {
  for (const k of keys) if (Object.hasOwn(v, k)) return true;
  return false;
}

/** The screen whose action runs next, if the transition asked for one. */
function runOf(menu: CompiledMenu, snap: AnyMachineSnapshot, actions: Actions | undefined): Screen | undefined {
  if (!actions?.length) return undefined;
  for (const a of actions) if (a.type === 'run') return screenOf(menu, snap);
  return undefined;
}

function screenOf(menu: CompiledMenu, s: AnyMachineSnapshot): Screen {
  return menu.screens.get(s.value as string)!;
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

// Module-level helpers rather than closures made on every hop (each costs under tsx).
/** `instance` is the session record's instance id: the key (an order's identity) never repeats. */
function inEvent(input: string, instance: string, n: number, lim: number): MenuEvent {
  return { type: 'IN', input, key: `${instance}:${n}`, lim };
}

/**
 * Applies the answers `input` holds ("3*1": 3, then 1) one at a time, stopping at the first one
 * the menu rejects, at an action (which then runs) or at an END.
 */
function applyAnswers(menu: CompiledMenu, snap: AnyMachineSnapshot, input: string, instance: string, n: number, lim: number): [AnyMachineSnapshot, Actions] {
  const logic = steppingLogic(menu.machine);
  // Most inputs are one answer: no list to build.
  if (!input.includes('*')) return transition(logic, snap, inEvent(input, instance, n, lim)) as [AnyMachineSnapshot, Actions];
  let actions: Actions = [];
  for (const a of answersOf(input)) {
    [snap, actions] = transition(logic, snap, inEvent(a, instance, n, lim));
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
  vars.reason = (reason ? (reason[lang] ?? reason.en) : undefined) ?? vars.reason ?? '';
  return { type: 'OUT', outcome: result.outcome, vars };
}
