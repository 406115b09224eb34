// {variable} substitution with per-variable formats (money, phone), always GSM-7 on the way out.
import type { Lang } from './types.js';
import type { VarFormat } from './types.js';
import { toGsm7 } from './gsm7.js';

/** Minor units → "100" or "100.50" (whole KES when there are no cents). */
export function formatMoney(minor: string): string {
  if (!/^\d+$/.test(minor)) return minor;
  const n = BigInt(minor);
  const whole = n / 100n;
  const cents = n % 100n;
  return cents === 0n ? whole.toString() : `${whole}.${cents.toString().padStart(2, '0')}`;
}

/** +254712345678 → 0712345678 (how Kenyans write their numbers). */
export function formatPhone(e164: string): string {
  return /^\+254\d{9}$/.test(e164) ? `0${e164.slice(4)}` : e164;
}

export function formatVar(value: string, fmt: VarFormat | undefined): string {
  if (fmt === 'money') return formatMoney(value);
  if (fmt === 'phone') return formatPhone(value);
  return value;
}

const VAR = /\{([a-z][a-z0-9_]*)\}/g;

export function interpolate(text: string, values: Record<string, string>, formats: Record<string, VarFormat>, extra?: Record<string, string>): string {
  if (!text.includes('{')) return text;
  return text.replace(VAR, (_m, name: string) => {
    const v = extra?.[name] ?? values[name];
    return v === undefined ? '' : toGsm7(formatVar(v, formats[name]));
  });
}

/** Names of the variables a text uses. */
export function varsOf(text: string): string[] {
  return [...text.matchAll(VAR)].map((m) => m[1]!);
}

/** Worst-case shown width of a variable, for the static screen-length check. */
export function worstWidth(name: string, fmt: VarFormat | undefined): number {
  if (fmt === 'money') return 9; // 150000.00
  if (fmt === 'phone') return 13; // +254… if ever shown raw
  if (name === 'reason') return 60;
  if (name === 'tries_left' || name === 'minutes') return 4;
  return 20;
}

export type { Lang };
