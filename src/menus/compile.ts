// One validated menu file → screens + one xstate v5 machine. The machine is only ever used
// through the pure transition()/initialTransition() functions (docs/architecture.md, rule 4): actions are
// returned as data ({ type: 'run' }) and the engine runs them after saving the session.
import { createHash } from 'node:crypto';
import { assign, createMachine, type AnyStateMachine } from 'xstate';
import { toGsm7 } from './gsm7.js';
import { pagesOf } from './render.js';
import { validateInput, parseKes } from './validate.js';
import type { MenuFile } from './schema.js';
import { messagesFor } from './messages.js';
import type { CompiledMenu, Keys, Localized, MenuContext, MenuEvent, MenuOption, Screen, VarFormat } from './types.js';

/** Bump when the snapshot shape or transition semantics change: old sessions then expire. */
const COMPILER_VERSION = '3';

const REQUIRED_OUTCOMES = ['success', 'failure', 'processing'] as const;
export { REQUIRED_OUTCOMES };

/** GSM-7 text in each of the menu's languages, in their order (the first is the default). */
function gsmIn(langs: readonly string[], l: Record<string, unknown>): Localized {
  const out: Localized = {};
  for (const lang of langs) out[lang] = toGsm7(String(l[lang] ?? ''));
  return out;
}

type Ev<T extends MenuEvent['type']> = Extract<MenuEvent, { type: T }>;
interface Args {
  context: MenuContext;
  event: MenuEvent;
}

function setValue(raw: string, ctx: MenuContext): string {
  return raw === '$phone' ? ctx.ph : raw;
}

export function buildScreens(file: MenuFile, langs: readonly string[] = file.languages ?? ['en', 'sw']): Map<string, Screen> {
  const gsm = (l: Record<string, unknown>) => gsmIn(langs, l);
  const screens = new Map<string, Screen>();
  const defaultsOn = file.defaults?.on ?? {};
  for (const [id, s] of Object.entries(file.screens)) {
    if (s.options) {
      const options: MenuOption[] = s.options.map((o) => ({
        label: gsm(o),
        next: o.next,
        ...(o.set
          ? {
              set: Object.fromEntries(
                Object.entries(o.set).map(([k, v]) => [k, /^KES\s*[\d,.]+$/i.test(v) ? (parseKes(v.replace(/^KES\s*/i, ''))?.toString() ?? v) : v]),
              ),
            }
          : {}),
        ...(o.lang ? { lang: o.lang } : {}),
      }));
      screens.set(id, { id, kind: 'options', text: gsm(s.text!), options });
    } else if (s.input) {
      screens.set(id, { id, kind: 'input', text: gsm(s.text!), input: s.input, next: s.next! });
    } else if (s.end) {
      screens.set(id, { id, kind: 'end', text: gsm(s.end) });
    } else {
      screens.set(id, { id, kind: 'action', action: s.action!, params: s.params ?? {}, on: { ...defaultsOn, ...(s.on ?? {}) } });
    }
  }
  return screens;
}

/** For each screen, the screens the back stack can point at while it is shown. */
export function predecessors(screens: Map<string, Screen>): Map<string, Set<string>> {
  const preds = new Map<string, Set<string>>();
  for (const id of screens.keys()) preds.set(id, new Set());
  const add = (to: string, from: string) => preds.get(to)?.add(from);
  for (const s of screens.values()) {
    if (s.kind === 'options') for (const o of s.options) add(o.next, s.id);
    if (s.kind === 'input') add(s.next, s.id);
  }
  // Action screens are never pushed: their outcomes go "back" to whatever led to the action.
  let changed = true;
  while (changed) {
    changed = false;
    for (const s of screens.values()) {
      if (s.kind !== 'action') continue;
      for (const target of Object.values(s.on ?? {})) {
        const into = preds.get(target);
        if (!into) continue;
        for (const p of preds.get(s.id) ?? []) {
          if (!into.has(p)) {
            into.add(p);
            changed = true;
          }
        }
      }
    }
  }
  return preds;
}

export function compileMenu(file: MenuFile, opts: { fileName: string; source: string; serviceCode: string; keys: Keys; languages?: string[] }): CompiledMenu {
  const languages = file.languages ?? opts.languages ?? ['en', 'sw'];
  const screens = buildScreens(file, languages);
  const messages = messagesFor(languages, file.messages);
  const formats: Record<string, VarFormat> = { ...(file.formats ?? {}) };
  const secrets = new Set<string>();
  for (const s of screens.values()) {
    if (s.kind !== 'input') continue;
    const inp = s.input;
    if (inp.type === 'amount') formats[inp.var] ??= 'money';
    if (inp.type === 'phone') formats[inp.var] ??= 'phone';
    if (inp.type === 'pin' || inp.secret) secrets.add(inp.var);
  }
  const { back, home, more } = opts.keys;
  const preds = predecessors(screens);
  const menuRef: Pick<CompiledMenu, 'formats' | 'keys' | 'messages'> = { formats, keys: opts.keys, messages };

  const input = (e: MenuEvent) => (e as Ev<'IN'>).input;
  const goto = (from: string, extra?: (a: Args) => Partial<MenuContext>) =>
    assign(({ context, event }: Args) => ({ h: [...context.h, from], pg: 0, e: '', ...(extra?.({ context, event }) ?? {}) }));

  const states: Record<string, unknown> = {};
  for (const s of screens.values()) {
    if (s.kind === 'end') {
      states[s.id] = { type: 'final' };
      continue;
    }
    if (s.kind === 'action') {
      const on = s.on ?? {};
      const outs = Object.entries(on).map(([outcome, target]) => ({
        guard: ({ event }: Args) => (event as Ev<'OUT'>).outcome === outcome,
        target,
        actions: assign(({ context, event }: Args) => outAssign(context, event as Ev<'OUT'>, secrets, target, screens)),
      }));
      states[s.id] = {
        entry: { type: 'run', params: { action: s.action, screen: s.id } },
        on: {
          OUT: [
            ...outs,
            // An outcome the menu does not map is a failure (the handler said something unexpected).
            { target: on.failure, actions: assign(({ context, event }: Args) => outAssign(context, event as Ev<'OUT'>, secrets, on.failure!, screens)) },
          ],
        },
      };
      continue;
    }
    const t: unknown[] = [];
    t.push({ guard: ({ event }: Args) => input(event) === home, target: `#m.${file.start}`, reenter: true, actions: assign({ h: [], pg: 0, e: '', v: {} }) });
    if (s.kind === 'options')
      t.push({
        guard: ({ context, event }: Args) => input(event) === back && context.pg > 0,
        actions: assign(({ context }: Args) => ({ pg: context.pg - 1, e: '' })),
      });
    for (const p of preds.get(s.id) ?? []) {
      t.push({
        guard: ({ context, event }: Args) => input(event) === back && context.h.at(-1) === p,
        target: `#m.${p}`,
        actions: assign(({ context }: Args) => ({ h: context.h.slice(0, -1), pg: 0, e: '' })),
      });
    }
    // A back stack that no longer matches this menu (should not happen): go home rather than stick.
    t.push({
      guard: ({ context, event }: Args) => input(event) === back && context.h.length > 0,
      target: `#m.${file.start}`,
      actions: assign({ h: [], pg: 0, e: '' }),
    });
    if (s.kind === 'options') {
      t.push({
        guard: ({ context, event }: Args) => input(event) === more && context.pg + 1 < pagesOf(menuRef, s, context.lang, (event as Ev<'IN'>).lim).length,
        actions: assign(({ context }: Args) => ({ pg: context.pg + 1, e: '' })),
      });
      s.options!.forEach((o, i) => {
        const n = String(i + 1);
        t.push({
          guard: ({ event }: Args) => input(event) === n,
          target: `#m.${o.next}`,
          actions: goto(s.id, ({ context, event }) => {
            const v = o.set ? { ...context.v } : context.v;
            if (o.set) for (const [k, raw] of Object.entries(o.set)) v[k] = setValue(raw, context);
            return { v, ...(o.lang ? { lang: o.lang } : {}), ...(screens.get(o.next)?.kind === 'action' ? { k: (event as Ev<'IN'>).key } : {}) };
          }),
        });
      });
      t.push({ actions: assign({ e: 'opt' }) });
    } else {
      const def = s.input!;
      // The guard and then the action (or the error branch) validate the same input against the
      // same context within one transition: the last answer is reused (a phone parse is costly).
      let memo: { raw: string; v: Record<string, string>; r: ReturnType<typeof validateInput> } | undefined;
      const check = (raw: string, v: Record<string, string>) => {
        if (memo && memo.raw === raw && memo.v === v) return memo.r;
        const r = validateInput(def, raw, v);
        memo = { raw, v, r };
        return r;
      };
      t.push({
        guard: ({ context, event }: Args) => check(input(event), context.v).ok,
        target: `#m.${s.next}`,
        actions: goto(s.id, ({ context, event }) => {
          const r = check(input(event), context.v);
          return { v: { ...context.v, [def.var]: r.ok ? r.value : '' }, ...(screens.get(s.next!)?.kind === 'action' ? { k: (event as Ev<'IN'>).key } : {}) };
        }),
      });
      t.push({
        actions: assign(({ context, event }: Args) => {
          const r = check(input(event), context.v);
          return { e: r.ok ? '' : `v:${r.reason}` };
        }),
      });
    }
    states[s.id] = { on: { IN: t } };
  }

  const machine: AnyStateMachine = createMachine({
    id: 'm',
    initial: file.start,
    context: ({ input }: { input: MenuContext }) => input,
    states,
  } as never);

  // The languages are part of the version: the same file read with other USSD_LANGUAGES is another menu.
  const version = createHash('sha1')
    .update(COMPILER_VERSION)
    .update(JSON.stringify(opts.keys))
    .update(languages.join(','))
    .update(opts.source)
    .digest('hex')
    .slice(0, 10);
  return {
    id: file.id,
    file: opts.fileName,
    serviceCode: opts.serviceCode,
    start: file.start,
    version,
    formats,
    screens,
    machine,
    keys: opts.keys,
    secrets,
    languages,
    messages,
  };
}

function outAssign(context: MenuContext, event: Ev<'OUT'>, secrets: Set<string>, target: string, screens: Map<string, Screen>): Partial<MenuContext> {
  const v: Record<string, string> = {};
  // Secrets (PINs, codes) are dropped as soon as the action that checked them has answered, so
  // none sits in the session record for the rest of its life. Only a retry screen (an input
  // asking again, e.g. "wrong code") keeps the secrets it does not ask for, so the subscriber
  // re-enters just the wrong one (a new PIN chosen before a wrong OTP).
  const next = screens.get(target);
  const keep = (k: string) => !secrets.has(k) || (next?.kind === 'input' && next.input?.var !== k);
  for (const [k, val] of Object.entries(context.v)) if (keep(k)) v[k] = val;
  for (const [k, val] of Object.entries(event.vars ?? {})) if (typeof val === 'string') v[k] = val;
  // A chained action gets its own key, still stable for this session and step.
  const chained = screens.get(target)?.kind === 'action';
  return { v, pg: 0, e: '', k: chained ? `${context.k ?? ''}>${target}` : '' };
}
