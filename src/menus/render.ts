// Text of one screen: hint, title, the page of options, "98 More" / "0 Back", within the limit.
import { gsmLength } from './gsm7.js';
import { formatPhone, interpolate, worstWidth, varsOf } from './format.js';
import { msg, optHintMax } from './messages.js';
import { inLang, type CompiledMenu, type Lang, type MenuContext, type Screen } from './types.js';
import type { InputDef, MsgKey } from './schema.js';

const pageCache = new WeakMap<Screen, Map<string, number[]>>();

/** Worst-case length of a text once variables are filled in. */
export function worstLength(text: string, menu: Pick<CompiledMenu, 'formats'>): number {
  let n = gsmLength(text.replace(/\{([a-z][a-z0-9_]*)\}/g, ''));
  for (const v of varsOf(text)) n += worstWidth(v, menu.formats[v]);
  return n;
}

export function optionLine(i: number, label: string): string {
  return `${i + 1} ${label}`;
}

/**
 * Start index of each page of an option list, computed once per (screen, language, limit) with
 * the worst-case title and a reserved hint line, so option numbers never move between hops.
 */
export function pagesOf(menu: Pick<CompiledMenu, 'formats' | 'keys' | 'messages'>, screen: Screen, lang: Lang, limit: number): number[] {
  let byKey = pageCache.get(screen);
  if (!byKey) {
    byKey = new Map();
    pageCache.set(screen, byKey);
  }
  const key = `${lang}:${limit}`;
  const hit = byKey.get(key);
  if (hit) return hit;
  const opts = screen.kind === 'options' ? screen.options : [];
  const header = worstLength(screen.text ? inLang(screen.text, lang) : '', menu) + optHintMax(menu) + 1;
  const lines = opts.map((o, i) => gsmLength(optionLine(i, inLang(o.label, lang))) + 1);
  const more = gsmLength(`${menu.keys.more} ${msg(menu, 'more', lang)}`) + 1;
  const back = gsmLength(`${menu.keys.back} ${msg(menu, 'back', lang)}`) + 1;
  const starts: number[] = [];
  let i = 0;
  while (i < opts.length) {
    starts.push(i);
    const base = header + (starts.length > 1 ? back : 0);
    const rest = lines.slice(i).reduce((a, b) => a + b, 0);
    if (base + rest <= limit) break; // the rest fits on this last page
    let used = base + more;
    let j = i;
    while (j < opts.length && used + lines[j]! <= limit) used += lines[j++]!;
    i = j === i ? i + 1 : j; // a single over-long option still gets its own page (menus:check flags it)
  }
  if (starts.length === 0) starts.push(0);
  byKey.set(key, starts);
  return starts;
}

function hintText(menu: CompiledMenu, screen: Screen, e: string, lang: Lang): string {
  if (!e) return '';
  if (e === 'opt') return msg(menu, 'opt', lang);
  const reason = e.slice(2) as MsgKey;
  const def: InputDef | undefined = screen.kind === 'input' ? screen.input : undefined;
  const custom = def?.error ? inLang(def.error, lang) : undefined;
  // Range messages keep their numbers even when the menu gives its own wording for bad formats.
  const base = reason === 'amount_range' || !custom ? (menu.messages[reason] ? msg(menu, reason, lang) : msg(menu, 'text', lang)) : custom;
  return base.replace('{min}', String(def?.min ?? '')).replace('{max}', String(def?.max ?? ''));
}

/** Fit into the limit by shortening the title (only reachable when a variable is unusually long). */
function fit(head: string, tail: string, limit: number): string {
  const full = tail ? `${head}\n${tail}` : head;
  if (gsmLength(full) <= limit) return full;
  const room = Math.max(0, limit - gsmLength(tail) - (tail ? 1 : 0) - 3);
  const cut = `${head.slice(0, room)}...`;
  return tail ? `${cut}\n${tail}` : cut.slice(0, limit);
}

export function renderScreen(menu: CompiledMenu, screen: Screen, ctx: MenuContext, limit: number): string {
  const lang = ctx.lang;
  if (screen.kind === 'end') return fit(interpolate(inLang(screen.text!, lang), ctx.v, menu.formats, { phone: formatPhone(ctx.ph) }), '', limit);
  const hint = hintText(menu, screen, ctx.e, lang);
  const title = interpolate(inLang(screen.text!, lang), ctx.v, menu.formats, { phone: formatPhone(ctx.ph) });
  const head = hint ? `${hint}\n${title}` : title;
  if (screen.kind === 'input') return fit(head, '', limit);
  const opts = screen.kind === 'options' ? screen.options : [];
  const starts = pagesOf(menu, screen, lang, limit);
  const pg = Math.min(ctx.pg, starts.length - 1);
  const from = starts[pg]!;
  const to = starts[pg + 1] ?? opts.length;
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(optionLine(i, inLang(opts[i]!.label, lang)));
  if (pg + 1 < starts.length) lines.push(`${menu.keys.more} ${msg(menu, 'more', lang)}`);
  if (pg > 0) lines.push(`${menu.keys.back} ${msg(menu, 'back', lang)}`);
  return fit(head, lines.join('\n'), limit);
}
