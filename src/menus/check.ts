// Static checks of a compiled menu: every screen fits (both languages, paging applied, worst-case
// variables and hints), every screen is reachable, every non-END screen can reach an END.
import { gsmLength } from './gsm7.js';
import { msg, optHintMax, type MsgKey } from './messages.js';
import { optionLine, pagesOf, worstLength } from './render.js';
import { inLang, type CompiledMenu, type InputScreen, type Lang, type Screen } from './types.js';

function targets(s: Screen): string[] {
  if (s.kind === 'options') return s.options!.map((o) => o.next);
  if (s.kind === 'input') return [s.next!];
  if (s.kind === 'action') return Object.values(s.on ?? {});
  return [];
}

function inputHintMax(menu: CompiledMenu, s: InputScreen, lang: Lang): number {
  const def = s.input;
  const reasons: MsgKey[] = {
    amount: ['amount_format', 'amount_range'],
    phone: ['phone'],
    pin: ['pin'],
    digits: ['digits'],
    text: ['text'],
    pattern: ['pattern'],
  }[def.type] as MsgKey[];
  if (def.type === 'amount' && def.whole) reasons.push('amount_whole');
  if (def.pattern !== undefined) reasons.push('pattern');
  if (def.equals !== undefined) reasons.push('equals');
  let max = 0;
  for (const r of reasons) {
    const text = r === 'amount_range' || !def.error ? msg(menu, r, lang) : inLang(def.error, lang);
    const n = gsmLength(text.replace('{min}', String(def.min ?? '')).replace('{max}', String(def.max ?? '')));
    max = Math.max(max, n);
  }
  return max;
}

/** Longest text each page of a screen can show, per language. */
export function screenLengths(menu: CompiledMenu, s: Screen, lang: Lang, limit: number): number[] {
  const title = s.text ? worstLength(inLang(s.text, lang), menu) : 0;
  if (s.kind === 'end') return [title];
  if (s.kind === 'input') return [title + inputHintMax(menu, s, lang) + 1];
  if (s.kind !== 'options') return [];
  const opts = s.options!;
  const starts = pagesOf(menu, s, lang, limit);
  return starts.map((from, p) => {
    const to = starts[p + 1] ?? opts.length;
    let n = title + optHintMax(menu) + 1;
    for (let i = from; i < to; i++) n += 1 + gsmLength(optionLine(i, inLang(opts[i]!.label, lang)));
    if (p + 1 < starts.length) n += 1 + gsmLength(`${menu.keys.more} ${msg(menu, 'more', lang)}`);
    if (p > 0) n += 1 + gsmLength(`${menu.keys.back} ${msg(menu, 'back', lang)}`);
    return n;
  });
}

/** `channels`: the enabled channels whose screens hold `limit` characters (named in the problems). */
export function checkMenu(menu: CompiledMenu, limit: number, channels: string[] = []): string[] {
  const problems: string[] = [];
  const at = (path: string, msg: string) => problems.push(`${menu.file}: ${path}: ${msg}`);
  const on = channels.length ? ` (${channels.join(', ')})` : '';

  for (const s of menu.screens.values()) {
    for (const lang of menu.languages) {
      screenLengths(menu, s, lang, limit).forEach((n, p) => {
        if (n > limit) {
          const field = s.kind === 'end' ? 'end' : 'text';
          const page = s.kind === 'options' ? `, page ${p + 1}` : '';
          at(`screens.${s.id}.${field}.${lang}`, `screen is ${n} characters at most${page} (with variables, hint and paging), limit ${limit}${on}`);
        }
      });
    }
    if (s.kind === 'action') {
      const proc = s.on?.processing;
      if (proc && menu.screens.get(proc)?.kind !== 'end')
        at(`screens.${s.id}.on.processing`, `"${proc}" must be an END screen (it is shown when the deadline passes)`);
    }
  }

  const seen = new Set<string>([menu.start]);
  const queue = [menu.start];
  while (queue.length) {
    const s = menu.screens.get(queue.shift()!);
    if (!s) continue;
    for (const t of targets(s))
      if (!seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
  }
  for (const id of menu.screens.keys()) if (!seen.has(id)) at(`screens.${id}`, `unreachable from start screen "${menu.start}"`);

  // Reverse reachability from END screens: a screen that cannot reach any END is a trap.
  const into = new Map<string, string[]>();
  for (const s of menu.screens.values()) for (const t of targets(s)) into.set(t, [...(into.get(t) ?? []), s.id]);
  const canEnd = new Set<string>();
  const q2 = [...menu.screens.values()].filter((s) => s.kind === 'end').map((s) => s.id);
  for (const id of q2) canEnd.add(id);
  while (q2.length)
    for (const p of into.get(q2.shift()!) ?? [])
      if (!canEnd.has(p)) {
        canEnd.add(p);
        q2.push(p);
      }
  for (const id of menu.screens.keys()) if (!canEnd.has(id)) at(`screens.${id}`, 'no way out: no END screen can be reached from here');

  return problems;
}
