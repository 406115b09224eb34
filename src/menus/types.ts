// A menu after loading: screens with sanitized texts, ready to render, plus its xstate machine.
import type { AnyStateMachine } from 'xstate';
import type { InputDef, Localized } from './schema.js';
import type { Messages } from './messages.js';

export type { Localized };

/** A language code of the menus (USSD_LANGUAGES and each file's `languages:`), e.g. en, sw, fr. */
export type Lang = string;

export interface MenuOption {
  label: Localized;
  next: string;
  set?: Record<string, string>;
  lang?: Lang;
}

interface ScreenBase {
  id: string;
  /** Title / prompt (options, input) or the END text (end). GSM-7 already. */
  text?: Localized;
}

/** A numbered list; each option names the screen it leads to. */
export interface OptionsScreen extends ScreenBase {
  kind: 'options';
  options: MenuOption[];
}
/** Free text checked by its validator, then `next`. */
export interface InputScreen extends ScreenBase {
  kind: 'input';
  input: InputDef;
  next: string;
}
/** Runs a registered action; its outcome picks the next screen through `on`. */
export interface ActionScreen extends ScreenBase {
  kind: 'action';
  action: string;
  params?: Record<string, string>;
  on: Record<string, string>;
}
/** The last screen: its text goes out with END. */
export interface EndScreen extends ScreenBase {
  kind: 'end';
}

/** One screen of a compiled menu: exactly one of the four kinds, each with its own fields. */
export type Screen = OptionsScreen | InputScreen | ActionScreen | EndScreen;

export type VarFormat = 'money' | 'phone' | 'text';

/** Session context carried in the xstate snapshot (kept tiny: it is stored every hop). */
export interface MenuContext {
  /** Values collected so far. */
  v: Record<string, string>;
  /** Back stack of screen ids. */
  h: string[];
  /** Page of a long option list. */
  pg: number;
  /** Hint to show once: '' none, 'opt' wrong option, 'v:<reason>' validator reason. */
  e: string;
  lang: Lang;
  /** Subscriber phone, E.164 (for `set: { recipient: $phone }`). */
  ph: string;
  /**
   * The session record's instance id (random, never reused): the base of every action's
   * idempotency key, so an order's identity never repeats when an aggregator reuses a sessionId.
   */
  i?: string;
  /** Idempotency key of the action being run on the current action screen. */
  k?: string;
}

export type MenuEvent = { type: 'IN'; input: string; key: string; lim: number } | { type: 'OUT'; outcome: string; vars?: Record<string, string> };

export interface Keys {
  back: string;
  home: string;
  more: string;
}

export interface CompiledMenu {
  id: string;
  file: string;
  serviceCode: string;
  start: string;
  /** Changes whenever the file or the compiler changes: older snapshots count as expired. */
  version: string;
  formats: Record<string, VarFormat>;
  screens: Map<string, Screen>;
  machine: AnyStateMachine;
  keys: Keys;
  /** Inputs never logged and dropped after an action. */
  secrets: Set<string>;
  /** The menu's languages; the first is its default (a subscriber with no known choice sees it). */
  languages: string[];
  /** The engine's own words in each of the menu's languages. */
  messages: Messages;
}

/** A text in `lang`, else in the menu's default language (every compiled text has all of the menu's). */
export function inLang(l: Localized, lang: Lang): string {
  return l[lang] ?? Object.values(l)[0] ?? '';
}

export class MenuError extends Error {
  override readonly name = 'MenuError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}
