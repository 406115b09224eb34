// The menu file format (YAML). Validated with zod; every error names file, path and problem.
import { z } from 'zod';

const id = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case (a-z, 0-9, _)');
const varName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');

/** Every user-visible string exists in English and Swahili. */
const text = (what: string) =>
  z.string({ error: (i) => (i.input === undefined ? `${what} is missing` : `${what} must be text`) }).min(1, `${what} is empty`);
export const localized = z.strictObject({ en: text('English text (en)'), sw: text('Swahili text (sw)') });
export type Localized = z.infer<typeof localized>;

const setMap = z.record(varName, z.union([z.string(), z.number()]).transform(String));

const option = z.strictObject({
  en: text('English label (en)'),
  sw: text('Swahili label (sw)'),
  next: id,
  /** Variables this choice sets: literal values, `$phone` (subscriber), `KES 50` (→ minor units). */
  set: setMap.optional(),
  /** Switches the subscriber's language (remembered per phone number). */
  lang: z.enum(['en', 'sw']).optional(),
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
    if (v.pattern !== undefined && typeof v.pattern === 'object' && !v.pattern_by) ctx.addIssue({ code: 'custom', path: ['pattern_by'], message: 'a pattern map needs `pattern_by` (the variable that picks the pattern)' });
    if (v.type === 'amount' && (v.min === undefined || v.max === undefined)) ctx.addIssue({ code: 'custom', path: ['min'], message: 'type amount needs `min` and `max` (KES)' });
    if (v.min !== undefined && v.max !== undefined && v.min > v.max) ctx.addIssue({ code: 'custom', path: ['min'], message: 'min is greater than max' });
    const pats = v.pattern === undefined ? [] : typeof v.pattern === 'string' ? [['', v.pattern] as const] : Object.entries(v.pattern);
    for (const [k, p] of pats) {
      try { new RegExp(p); } catch { ctx.addIssue({ code: 'custom', path: k ? ['pattern', k] : ['pattern'], message: `not a valid regular expression: ${p}` }); }
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
    on: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), id).optional(),
  })
  .superRefine((s, ctx) => {
    const kinds = [s.options && 'options', s.input && 'input', s.end && 'end', s.action && 'action'].filter(Boolean);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: kinds.length === 0 ? 'a screen needs one of options, input, end or action' : `a screen has exactly one of options, input, end or action (found ${kinds.join(', ')})` });
      return;
    }
    if ((s.options || s.input) && !s.text) ctx.addIssue({ code: 'custom', path: ['text'], message: 'options and input screens need `text`' });
    if (s.input && !s.next) ctx.addIssue({ code: 'custom', path: ['next'], message: 'an input screen needs `next`' });
    if (!s.input && s.next) ctx.addIssue({ code: 'custom', path: ['next'], message: '`next` belongs to input screens (options carry their own next)' });
    if (!s.action && (s.on || s.params)) ctx.addIssue({ code: 'custom', path: [s.on ? 'on' : 'params'], message: '`on` and `params` belong to action screens' });
    if ((s.end || s.action) && s.text) ctx.addIssue({ code: 'custom', path: ['text'], message: s.end ? 'END screens put their text in `end`' : 'action screens show no text (their outcomes do)' });
  });

export const menuFile = z.strictObject({
  id,
  /** Defaults to USSD_SERVICE_CODE. */
  service_code: z.string().regex(/^\*[0-9*]+#$/, 'must look like *860*30#').optional(),
  start: id,
  /** How a {variable} is shown: money (minor units → "100" / "100.50"), phone (E.164 → 07…). */
  formats: z.record(varName, z.enum(['money', 'phone', 'text'])).optional(),
  defaults: z.strictObject({ on: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), id).optional() }).optional(),
  screens: z.record(id, screen),
});

export type MenuFile = z.infer<typeof menuFile>;
export type ScreenDef = z.infer<typeof screen>;
export type OptionDef = z.infer<typeof option>;
export type InputDef = z.infer<typeof input>;
