// Small readers shared by the adapters: every field an aggregator sends is checked for its type
// and size here, so a malformed callback becomes a 400 with a reason, never an exception.
import type { Context } from 'koa';

export type Fields = Record<string, unknown>;

/** Longest session id and input text accepted (aggregators send far less). */
export const MAX_ID = 128;
export const MAX_INPUT = 1000;

/** The request body as an object, or undefined when it is not one. */
export function bodyObject(ctx: Context): Fields | undefined {
  const b = ctx.request.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Fields) : undefined;
}

/** The query string as fields; a repeated parameter stays a list (and is refused by `str`). */
export function queryObject(ctx: Context): Fields {
  return ctx.query as Fields;
}

/** A string field (numbers are accepted as their decimal text); undefined when absent or of another type. */
export function str(b: Fields, name: string): string | undefined {
  const v = b[name];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** True when the field is present but is neither a string nor a number (a list, an object…). */
export function wrongType(b: Fields, name: string): boolean {
  const v = b[name];
  return v !== undefined && v !== null && str(b, name) === undefined;
}

/** JSON booleans and their usual string forms; undefined when absent, 'bad' when anything else. */
export function flag(v: unknown): boolean | undefined | 'bad' {
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true' || v === 'TRUE' || v === 'True' || v === 1 || v === '1') return true;
  if (v === false || v === 'false' || v === 'FALSE' || v === 'False' || v === 0 || v === '0') return false;
  return 'bad';
}

/** A request counter: a non-negative integer (or its decimal text) below 10^10; 'bad' otherwise. */
export function counter(v: unknown): number | undefined | 'bad' {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n < 1e10 ? n : 'bad';
}

/** A whole dial string (`*713#`, `*713*1*2#`): a start message that carries one may deep-link. */
export function isDialString(s: string | undefined): s is string {
  return s !== undefined && /^\*[0-9*]*[0-9]#?$/.test(s.trim());
}

/** Checks shared by every adapter: a session id and a phone, both of sane size. */
export function checkIds(sessionId: string | undefined, phone: string | undefined, names: { session: string; phone: string }): string | undefined {
  if (!sessionId) return `missing ${names.session}`;
  if (sessionId.length > MAX_ID) return `${names.session} too long`;
  if (!phone) return `missing ${names.phone}`;
  if (phone.length > 32) return `${names.phone} too long`;
  return undefined;
}

/** The first line of a screen (Hubtel shows it as the screen's label). */
export function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}

export function json(ctx: Context, body: unknown): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = body;
}

export function plain(ctx: Context, body: string): void {
  ctx.status = 200;
  ctx.type = 'text/plain';
  ctx.body = body;
}
