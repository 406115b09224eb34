// Reads menus/*.yaml, validates them (schema, references, screen limits) and compiles them.
// Any problem → MenuError listing "file: path: what is wrong"; the service refuses to start.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { languagesOf, menuFileSchema, type MenuFile } from './schema.js';
import { compileMenu, REQUIRED_OUTCOMES } from './compile.js';
import { checkMenu } from './check.js';
import { MenuError, type CompiledMenu, type Keys } from './types.js';

export interface LoadOptions {
  defaultServiceCode: string;
  keys: Keys;
  /** One screen limit for every channel (tests, tools)… */
  screenMaxChars?: number;
  /** …or each enabled channel's: every menu must fit each of them (paging applies per limit). */
  screenLimits?: { limit: number; channels: string[] }[];
  /** USSD_LANGUAGES: the languages of a file that names none of its own (default en, sw). */
  languages?: string[];
}

export const DEFAULT_LANGUAGES = ['en', 'sw'];

export function menuFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new MenuError([`${dir}: menus directory not found (MENUS_DIR)`]);
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

function pathOf(parts: ReadonlyArray<PropertyKey>): string {
  return parts.length ? parts.map(String).join('.') : '(top level)';
}

/** Problems that only need the parsed file: references, required outcomes, variables. */
function references(file: MenuFile, name: string): string[] {
  const out: string[] = [];
  const ids = new Set(Object.keys(file.screens));
  const at = (path: string, msg: string) => out.push(`${name}: ${path}: ${msg}`);
  const ref = (path: string, target: string) => {
    if (!ids.has(target)) at(path, `target screen "${target}" does not exist`);
  };
  if (!ids.has(file.start)) at('start', `start screen "${file.start}" does not exist`);
  for (const [k, t] of Object.entries(file.defaults?.on ?? {})) ref(`defaults.on.${k}`, t);
  const vars = new Set<string>();
  for (const s of Object.values(file.screens)) {
    if (s.input) vars.add(s.input.var);
    for (const o of s.options ?? []) for (const k of Object.keys(o.set ?? {})) vars.add(k);
  }
  for (const [id, s] of Object.entries(file.screens)) {
    s.options?.forEach((o, i) => {
      ref(`screens.${id}.options.${i}.next`, o.next);
      for (const [k, v] of Object.entries(o.set ?? {}))
        if (v.startsWith('$') && v !== '$phone') at(`screens.${id}.options.${i}.set.${k}`, `unknown source "${v}" (only $phone)`);
    });
    if (s.next) ref(`screens.${id}.next`, s.next);
    if (s.input?.equals && !vars.has(s.input.equals)) at(`screens.${id}.input.equals`, `variable "${s.input.equals}" is never set`);
    if (s.input?.pattern_by && !vars.has(s.input.pattern_by)) at(`screens.${id}.input.pattern_by`, `variable "${s.input.pattern_by}" is never set`);
    if (s.action) {
      const on = { ...(file.defaults?.on ?? {}), ...(s.on ?? {}) };
      for (const [k, t] of Object.entries(s.on ?? {})) ref(`screens.${id}.on.${k}`, t);
      for (const o of REQUIRED_OUTCOMES) if (!on[o]) at(`screens.${id}.on`, `outcome "${o}" is not mapped to a screen (here or in defaults.on)`);
    }
  }
  return out;
}

export function parseMenu(path: string, source: string, languages: readonly string[] = DEFAULT_LANGUAGES): { file?: MenuFile; problems: string[] } {
  const name = basename(path);
  const doc = parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) return { problems: doc.errors.map((e) => `${name}: line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`) };
  const js = doc.toJS() as unknown;
  const langs = languagesOf(js, languages);
  if (langs.problems.length) return { problems: langs.problems.map((p) => `${name}: ${p.path}: ${p.message}`) };
  const parsed = menuFileSchema(langs.langs).safeParse(js);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${name}: ${pathOf(i.path)}: ${i.message}`) };
  const file = { ...parsed.data, languages: langs.langs };
  const problems = references(file, name);
  return problems.length ? { problems } : { file, problems };
}

/** Load every menu from the given files; throws MenuError with every problem found. */
export function loadMenus(paths: string[], opts: LoadOptions): CompiledMenu[] {
  const { menus, problems } = loadMenusReport(paths, opts);
  if (problems.length) throw new MenuError(problems);
  return menus;
}

/**
 * Every file that parses, compiled, beside every problem found (the console draws a draft with
 * its over-long and unreachable screens flagged before anyone reloads it).
 */
export function loadMenusReport(paths: string[], opts: LoadOptions): { menus: CompiledMenu[]; problems: string[] } {
  const problems: string[] = [];
  const menus: CompiledMenu[] = [];
  const codes = new Map<string, string>();
  if (paths.length === 0) problems.push('no menu files found');
  for (const p of paths) {
    const name = basename(p);
    let source: string;
    try {
      source = readFileSync(resolve(p), 'utf8');
    } catch (err) {
      problems.push(`${name}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const r = parseMenu(p, source, opts.languages ?? DEFAULT_LANGUAGES);
    problems.push(...r.problems);
    if (!r.file) continue;
    const serviceCode = r.file.service_code ?? opts.defaultServiceCode;
    const other = codes.get(serviceCode);
    if (other) {
      problems.push(`${name}: service_code: ${serviceCode} is already answered by ${other}`);
      continue;
    }
    codes.set(serviceCode, name);
    const menu = compileMenu(r.file, { fileName: name, source, serviceCode, keys: opts.keys, ...(opts.languages ? { languages: opts.languages } : {}) });
    const limits = opts.screenLimits ?? [{ limit: opts.screenMaxChars ?? 182, channels: [] }];
    for (const { limit, channels } of limits) problems.push(...checkMenu(menu, limit, channels));
    menus.push(menu);
  }
  // Reachability problems do not depend on the limit: said once, not once per channel limit.
  return { menus, problems: [...new Set(problems)] };
}

export function loadMenuDir(dir: string, opts: LoadOptions): CompiledMenu[] {
  return loadMenus(menuFilesIn(dir), opts);
}
