// The pure step of a hop (src/ussd/step.ts) on its own: no Redis, no service, no clock. Each test
// hands it a record as the store would load it and checks the reply, what it would store, and
// the action it asks the runner to run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMenuDir } from '../../src/menus/load.js';
import { MSG } from '../../src/menus/messages.js';
import type { MenuContext } from '../../src/menus/types.js';
import type { SessionRecord, SessionState } from '../../src/ussd/session-store.js';
import {
  afterAction,
  conclude,
  lateText,
  lockLost,
  step,
  type HopFacts,
  type MenuLookup,
  type Start,
  type StepOptions,
  type Stepped,
} from '../../src/ussd/step.js';

const [menu] = loadMenuDir('menus', { defaultServiceCode: '*860*30#', keys: { back: '0', home: '00', more: '98' }, screenMaxChars: 182 });
const PHONE = '+254712000003';
const menus: MenuLookup = { menuFor: () => undefined, menuOfVersion: (v) => (v === menu!.version ? menu : undefined) };
let ids = 0;
const opts: StepOptions = { resume: true, newInstance: () => `inst${++ids}` };
const NEW: Start = { kind: 'new', resume: undefined, lang: undefined };

/** A cumulative channel (Africa's Talking): the text holds every answer so far. */
function at(text: string, sid = 'at:s1'): HopFacts {
  return {
    found: { menu: menu!, extra: '' },
    channel: { inputStyle: 'cumulative', starts: 'explicit', screenMaxChars: 182 },
    req: { kind: 'continue', input: text },
    phone: { e164: PHONE },
    sid,
  };
}

/** A latest-only channel with explicit starts: only the newest input. */
function latest(input: string, kind: 'start' | 'continue' = 'continue'): HopFacts {
  return {
    found: kind === 'start' ? { menu: menu!, extra: '' } : undefined,
    channel: { inputStyle: 'latest', starts: 'explicit', screenMaxChars: 182 },
    req: { kind, input },
    phone: { e164: PHONE },
    sid: 'x:s1',
  };
}

function stepped(r: Stepped | string): Stepped {
  assert.equal(typeof r, 'object', `a step, not the refusal ${String(r)}`);
  return r as Stepped;
}

/** The record a hop's conclusion would be stored as. */
function recordOf(s: Stepped, mark: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  const c = conclude(s, { sid: 'x' }, opts);
  return { kind: 'session', mark, state: c.state, n: c.n, machineVersion: menu!.version, resumeOffer: c.resumeOffer, closed: '', ...extra };
}

function state(v: string, values: Record<string, string> = {}): SessionState {
  return { v, c: { v: values, h: ['main'], pg: 0, e: '', lang: 'en', ph: PHONE, i: 'old-instance' } satisfies MenuContext };
}

test("a new session renders the start screen, in the menu's default language, and leaves a resume pointer", () => {
  const s = stepped(step(menus, at(''), NEW, opts));
  assert.equal(s.run, undefined);
  assert.equal(s.from, '');
  const c = conclude(s, { sid: 'at:s1' }, opts);
  assert.equal(c.screen, 'main');
  assert.equal(c.outcome, 'con');
  assert.equal(c.reply.continues, true);
  assert.match(c.reply.text, /^Welcome to Kemru Pay\n1 Buy airtime\n2 Buy data bundle\n/);
  assert.equal(c.n, 1);
  assert.equal(c.lang, undefined, 'the default language is not stored as a choice');
  assert.equal(typeof c.resume, 'object');
  assert.equal((c.resume as { sid: string }).sid, 'at:s1');
  assert.equal(conclude(s, { sid: 'at:s1' }, { resume: false }).resume, 'keep');
});

test("the phone's remembered language is used when the menu speaks it", () => {
  const c = conclude(stepped(step(menus, at(''), { kind: 'new', resume: undefined, lang: 'sw' }, opts)), { sid: 's' }, opts);
  assert.match(c.reply.text, /^Karibu Kemru Pay/);
  assert.equal(c.lang, undefined);
});

test('an invalid option re-renders the screen with the hint, and the hop still counts', () => {
  const first = stepped(step(menus, at(''), NEW, opts));
  const rec = recordOf(first, '~0:x');
  const s = stepped(step(menus, at('9'), rec, opts));
  assert.equal(s.from, 'main');
  const c = conclude(s, { sid: 's' }, opts);
  assert.equal(c.screen, 'main');
  assert.ok(c.reply.text.startsWith(MSG.opt.en), c.reply.text);
  assert.match(c.reply.text, /Welcome to Kemru Pay/);
  assert.equal(c.n, 2);
});

test('a dial-in shortcut stops at the action and asks for it to run; its result is fed back purely', () => {
  const s = stepped(step(menus, at('1*1*100*1'), NEW, opts));
  assert.equal(s.run?.id, 'airtime_do');
  assert.equal(s.run?.kind === 'action' ? s.run.action : '', 'airtime');
  assert.equal(s.state.v, 'airtime_do', 'the state the runner saves before running it');
  // Money is kept in the smallest unit (architecture rule 10).
  assert.deepEqual({ recipient: s.state.c.v.recipient, amount: s.state.c.v.amount }, { recipient: PHONE, amount: '10000' });
  assert.ok(s.state.c.k, 'an idempotency key is set for the action');
  const done = afterAction(s, { outcome: 'success' });
  assert.equal(done.run, undefined);
  const c = conclude(done, { sid: 's' }, opts);
  assert.equal(c.screen, 'pay_prompt');
  assert.equal(c.outcome, 'end');
  assert.equal(c.reply.continues, false);
  assert.match(c.reply.text, /KES 100/);
  assert.equal(c.resume, 'clear', 'an ended session leaves no resume pointer');
  assert.equal(s.state.v, 'airtime_do', 'afterAction leaves the step it was given as it was');
  // The same outcome arriving after the deadline: the SMS says what the screen would have said.
  assert.equal(lateText(s, { outcome: 'success' }), c.reply.text);
  assert.match(lockLost(s).text, /still being handled/);
});

test('a record left at an action screen (its hop crashed) re-runs that action', () => {
  const s = stepped(step(menus, at('1*1*100*1'), NEW, opts));
  const rec: SessionRecord = { kind: 'session', mark: '~9:x', state: s.state, n: 4, machineVersion: menu!.version, resumeOffer: undefined, closed: '' };
  const again = stepped(step(menus, at('1*1*100*1*'), rec, opts));
  assert.equal(again.run?.id, 'airtime_do');
  assert.equal(again.state.c.k, s.state.c.k, 'the same idempotency key');
});

test('a dropped session is offered on the next dial, and "1" resumes it under the new instance', () => {
  const dropped = state('airtime_amount', { recipient: PHONE });
  const loaded: Start = { kind: 'new', resume: { sid: 'at:old', version: menu!.version, state: dropped }, lang: undefined };
  const s = stepped(step(menus, at(''), loaded, opts));
  const c = conclude(s, { sid: 'at:s2' }, opts);
  assert.equal(c.screen, 'resume');
  assert.equal(c.reply.text, MSG.resume.en);
  assert.equal(c.resumeOffer, dropped);
  assert.equal(c.resume, 'keep', 'an offer does not replace the pointer');
  // Disabled, or a shortcut from another session: no offer.
  assert.equal(conclude(stepped(step(menus, at(''), loaded, { ...opts, resume: false })), { sid: 's' }, opts).screen, 'main');
  assert.equal(stepped(step(menus, at('1'), loaded, opts)).resumeOffer, undefined);
  // "1" takes the dropped screens, with this session's own instance.
  const rec = recordOf(s, '~0:x');
  const resumed = stepped(step(menus, at('1'), rec, opts));
  assert.equal(resumed.state.v, 'airtime_amount');
  assert.equal(resumed.state.c.v.recipient, PHONE);
  assert.notEqual(resumed.state.c.i, 'old-instance');
  // Anything else but "2", home or back: the offer again, with the hint.
  const again = conclude(stepped(step(menus, at('7'), rec, opts)), { sid: 's' }, opts);
  assert.equal(again.screen, 'resume');
  assert.ok(again.reply.text.startsWith(MSG.opt.en));
});

test('a closed record, or one at an END screen, answers "ended" and runs nothing', () => {
  const closed: SessionRecord = {
    kind: 'session',
    mark: '~1:x',
    state: state('airtime_for'),
    n: 2,
    machineVersion: menu!.version,
    resumeOffer: undefined,
    closed: 'release',
  };
  const c = conclude(stepped(step(menus, at('1*1'), closed, opts)), { sid: 's' }, opts);
  assert.deepEqual([c.outcome, c.reply.continues, c.reply.text], ['ended', false, MSG.ended.en]);
  const atEnd: SessionRecord = { ...closed, state: state('cancelled'), closed: '' };
  const e = stepped(step(menus, at('1*1'), atEnd, opts));
  assert.equal(e.run, undefined);
  assert.equal(conclude(e, { sid: 's' }, opts).outcome, 'ended');
});

test("refusals: another phone's snapshot, a later request with no record, an unknown dialled code", () => {
  const theirs: SessionRecord = {
    kind: 'session',
    mark: '~1:x',
    state: { v: 'main', c: { ...state('main').c, ph: '+254700000000' } },
    n: 1,
    machineVersion: menu!.version,
    resumeOffer: undefined,
    closed: '',
  };
  assert.equal(step(menus, at('1'), theirs, opts), 'foreign');
  assert.equal(step(menus, latest('1'), NEW, opts), 'expired');
  const airtel: HopFacts = { ...latest('*999#'), channel: { inputStyle: 'latest', starts: 'implicit', screenMaxChars: 182 } };
  assert.equal(step(menus, airtel, NEW, opts), 'unknown_code');
  // An unreadable record counts as expired: a latest-only start begins anew.
  const unreadable: SessionRecord = { ...theirs, state: undefined };
  assert.equal(stepped(step(menus, latest('', 'start'), unreadable, opts)).from, '');
});

test('the resume pointer never carries a secret the session holds', () => {
  const s = stepped(step(menus, at('4*1234'), NEW, opts));
  assert.equal(s.run?.id, 'balance_do');
  const retry = afterAction(s, { outcome: 'wrong_pin', vars: { tries_left: '2' } });
  const c = conclude(retry, { sid: 's' }, opts);
  assert.equal(c.screen, 'balance_pin_retry');
  assert.equal(c.reply.field, 'secret');
  assert.equal(typeof c.resume, 'object');
  const pointer = (c.resume as { state: SessionState }).state;
  assert.equal(pointer.v, 'balance_pin_retry');
  assert.equal(Object.hasOwn(pointer.c.v, 'pin'), false);
  // A record still holding a secret at a continuing screen: the session keeps it, the pointer not.
  const holding: SessionRecord = {
    kind: 'session',
    mark: '~1:x',
    state: state('main', { pin: '1234', recipient: PHONE }),
    n: 3,
    machineVersion: menu!.version,
    resumeOffer: undefined,
    closed: '',
  };
  const h = conclude(stepped(step(menus, at('9'), holding, opts)), { sid: 's' }, opts);
  assert.equal(h.state.c.v.pin, '1234');
  const p = (h.resume as { state: SessionState }).state;
  assert.deepEqual(p.c.v, { recipient: PHONE });
  assert.equal(p.v, 'main');
});
