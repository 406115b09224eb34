// The menu file format (YAML). Validated with zod; every error names file, path and problem.
// Languages are data: a file is checked against the languages it declares (`languages:`), else
// the service's (USSD_LANGUAGES), and every user-visible string must exist in each of them.
// menus/schema.json is the same format as a JSON Schema for editors (test/menus keeps the two
// in step).
import { z } from 'zod';
import { MSG } from './messages.js';

const id = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case (a-z, 0-9, _)');
const varName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');

/** A language code: ISO 639-1 or -3, lower case (en, sw, fr, lg, kik…). */
export const LANG_CODE = /^[a-z]{2,3}$/;
/** Option keys that can never name a language (they share the option's object with the labels). */
const RESERVED = new Set(['set', 'next']);
export function isLangCode(v: string): boolean {
  return LANG_CODE.test(v) && !RESERVED.has(v);
}

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  sw: 'Swahili',
  fr: 'French',
  ar: 'Arabic',
  pt: 'Portuguese',
  am: 'Amharic',
  so: 'Somali',
  lg: 'Luganda',
  rw: 'Kinyarwanda',
  ha: 'Hausa',
  yo: 'Yoruba',
  ig: 'Igbo',
  tw: 'Twi',
  ak: 'Akan',
  ee: 'Ewe',
  zu: 'Zulu',
  xh: 'Xhosa',
  kik: 'Kikuyu',
  luo: 'Luo',
  kln: 'Kalenjin',
  ki: 'Kikuyu',
  om: 'Oromo',
};
const nameOf = (lang: string) => (LANGUAGE_NAMES[lang] ? `${LANGUAGE_NAMES[lang]} ` : '');

/** Text in every language of the menu, by language code. */
export type Localized = Record<string, string>;

const text = (what: string) => z.string({ error: (i) => (i.input === undefined ? `${what} is missing` : `${what} must be text`) }).min(1, `${what} is empty`);

function localizedOf(langs: readonly string[], what = 'text') {
  return z.strictObject(Object.fromEntries(langs.map((l) => [l, text(`${nameOf(l)}${what} (${l})`)]))) as unknown as z.ZodType<Localized>;
}

const setMap = z.record(varName, z.union([z.string(), z.number()]).transform(String));

/** One option as written: a label per language (`en: …, sw: …`) beside `next`, `set`, `lang`. */
export interface OptionDef {
  next: string;
  /** Variables this choice sets: literal values, `$phone` (subscriber), `KES 50` (→ minor units). */
  set?: Record<string, string>;
  /** Switches the subscriber's language (remembered per phone number). */
  lang?: string;
  [lang: string]: string | Record<string, string> | undefined;
}

export interface InputDef {
  var: string;
  type: 'amount' | 'phone' | 'pattern' | 'pin' | 'digits' | 'text';
  min?: number;
  max?: number;
  whole?: boolean;
  pattern?: string | Record<string, string>;
  pattern_by?: string;
  equals?: string;
  secret?: boolean;
  error?: Localized;
}

export interface ScreenDef {
  text?: Localized;
  options?: OptionDef[];
  input?: InputDef;
  next?: string;
  end?: Localized;
  action?: string;
  params?: Record<string, string>;
  on?: Record<string, string>;
}

export type MsgKey = keyof typeof MSG;

export interface MenuFile {
  id: string;
  service_code?: string;
  /** The languages of this file, the first being its default; unset: USSD_LANGUAGES. */
  languages?: string[];
  start: string;
  formats?: Record<string, 'money' | 'phone' | 'text'>;
  defaults?: { on?: Record<string, string> };
  /** The engine's own words (hints, paging, resume offer…) in languages it does not speak itself. */
  messages?: Partial<Record<MsgKey, Localized>>;
  screens: Record<string, ScreenDef>;
}

const outcome = z.string().regex(/^[a-z][a-z0-9_]*$/);

function build(langs: readonly string[]): z.ZodType<MenuFile> {
  const localized = localizedOf(langs);
  const option = z.strictObject({
    ...Object.fromEntries(langs.map((l) => [l, text(`${nameOf(l)}label (${l})`)])),
    next: id,
    set: setMap.optional(),
    lang: z.enum(langs as [string, ...string[]], { error: `must be one of this menu's languages (${langs.join(', ')})` }).optional(),
  });

  const input = z
    .strictObject({
      var: varName,
      type: z.enum(['amount', 'phone', 'pattern', 'pin', 'digits', 'text']),
      /** amount: whole KES; digits/text: length. */
      min: z.number().nonnegative().optional(),
      max: z.number().positive().optional(),
      /** amount: whole shillings only ("10.50" is refused at entry), for flows that cannot move cents. */
      whole: z.boolean().optional(),
      /** pattern: one regex, or a map from the value of `pattern_by` to a regex. */
      pattern: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
      pattern_by: varName.optional(),
      /** The value must equal this variable (PIN confirmation). */
      equals: varName.optional(),
      /** Never logged, dropped from the session once an action has used it. */
      secret: z.boolean().optional(),
      /** Reason shown when the value is rejected (a default exists per type). */
      error: localized.optional(),
    })
    .superRefine((v, ctx) => {
      if (v.type === 'pattern' && v.pattern === undefined) ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'type pattern needs `pattern`' });
      if (v.pattern !== undefined && typeof v.pattern === 'object' && !v.pattern_by)
        ctx.addIssue({ code: 'custom', path: ['pattern_by'], message: 'a pattern map needs `pattern_by` (the variable that picks the pattern)' });
      if (v.type === 'amount' && (v.min === undefined || v.max === undefined))
        ctx.addIssue({ code: 'custom', path: ['min'], message: 'type amount needs `min` and `max` (KES)' });
      if (v.min !== undefined && v.max !== undefined && v.min > v.max) ctx.addIssue({ code: 'custom', path: ['min'], message: 'min is greater than max' });
      const pats = v.pattern === undefined ? [] : typeof v.pattern === 'string' ? [['', v.pattern] as const] : Object.entries(v.pattern);
      for (const [k, p] of pats) {
        try {
          new RegExp(p);
        } catch {
          ctx.addIssue({ code: 'custom', path: k ? ['pattern', k] : ['pattern'], message: `not a valid regular expression: ${p}` });
        }
      }
    });

  const screen = z
    .strictObject({
      /** The screen's text (title of an option list, prompt of an input). */
      text: localized.optional(),
      options: z.array(option).min(1, 'an option list needs at least one option').max(90).optional(),
      input: input.optional(),
      next: id.optional(),
      /** An END screen: this text ends the session. */
      end: localized.optional(),
      action: id.optional(),
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
      /** Action outcome → screen id. success, failure and processing must be mapped (or come from defaults). */
      on: z.record(outcome, id).optional(),
    })
    .superRefine((s, ctx) => {
      const kinds = [s.options && 'options', s.input && 'input', s.end && 'end', s.action && 'action'].filter(Boolean);
      if (kinds.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message:
            kinds.length === 0
              ? 'a screen needs one of options, input, end or action'
              : `a screen has exactly one of options, input, end or action (found ${kinds.join(', ')})`,
        });
        return;
      }
      if ((s.options || s.input) && !s.text) ctx.addIssue({ code: 'custom', path: ['text'], message: 'options and input screens need `text`' });
      if (s.input && !s.next) ctx.addIssue({ code: 'custom', path: ['next'], message: 'an input screen needs `next`' });
      if (!s.input && s.next) ctx.addIssue({ code: 'custom', path: ['next'], message: '`next` belongs to input screens (options carry their own next)' });
      if (!s.action && (s.on || s.params))
        ctx.addIssue({ code: 'custom', path: [s.on ? 'on' : 'params'], message: '`on` and `params` belong to action screens' });
      if ((s.end || s.action) && s.text)
        ctx.addIssue({
          code: 'custom',
          path: ['text'],
          message: s.end ? 'END screens put their text in `end`' : 'action screens show no text (their outcomes do)',
        });
    });

  // The engine's words: any of its keys, in any of the menu's languages (the rest come from the
  // engine, which speaks English and Swahili, else the menu's default language falls back to English).
  const partialLocalized = z.strictObject(Object.fromEntries(langs.map((l) => [l, text(`${nameOf(l)}text (${l})`).optional()])));
  const messages = z.strictObject(Object.fromEntries(Object.keys(MSG).map((k) => [k, partialLocalized.optional()])));

  return z.strictObject({
    id,
    /** Defaults to USSD_SERVICE_CODE. */
    service_code: z
      .string()
      .regex(/^\*[0-9*]+#$/, 'must look like *860*30#')
      .optional(),
    languages: z.array(z.string()).optional(),
    start: id,
    /** How a {variable} is shown: money (minor units → "100" / "100.50"), phone (E.164 → 07…). */
    formats: z.record(varName, z.enum(['money', 'phone', 'text'])).optional(),
    defaults: z.strictObject({ on: z.record(outcome, id).optional() }).optional(),
    messages: messages.optional(),
    screens: z.record(id, screen),
  }) as unknown as z.ZodType<MenuFile>;
}

const schemas = new Map<string, z.ZodType<MenuFile>>();

/** The schema of a menu file in these languages (built once per set). */
export function menuFileSchema(langs: readonly string[]): z.ZodType<MenuFile> {
  const key = langs.join(',');
  let s = schemas.get(key);
  if (!s) {
    s = build(langs);
    schemas.set(key, s);
  }
  return s;
}

/**
 * The languages a parsed YAML document declares (`languages:`), checked; else `fallback`.
 * Problems are returned with their path, like schema problems.
 */
export function languagesOf(doc: unknown, fallback: readonly string[]): { langs: string[]; problems: Array<{ path: string; message: string }> } {
  const raw = doc && typeof doc === 'object' ? (doc as { languages?: unknown }).languages : undefined;
  if (raw === undefined) return { langs: [...fallback], problems: [] };
  if (!Array.isArray(raw) || raw.length === 0)
    return { langs: [...fallback], problems: [{ path: 'languages', message: 'must be a non-empty list of language codes (en, sw, fr…)' }] };
  const problems: Array<{ path: string; message: string }> = [];
  const langs: string[] = [];
  raw.forEach((l, i) => {
    if (typeof l !== 'string' || !isLangCode(l))
      problems.push({ path: `languages.${i}`, message: `"${String(l)}" is not a language code (2 or 3 lower-case letters, e.g. fr)` });
    else if (langs.includes(l)) problems.push({ path: `languages.${i}`, message: `"${l}" is listed twice` });
    else langs.push(l);
  });
  return { langs: langs.length ? langs : [...fallback], problems };
}
