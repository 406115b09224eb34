// Free-input validators. Values are stored normalized: amounts in minor units, phones in E.164.
import { parsePhoneFast } from '../lib/phone.js';
import type { InputDef } from './schema.js';

export type Validation = { ok: true; value: string } | { ok: false; reason: string };

const patternCache = new Map<string, RegExp>();
function re(p: string): RegExp {
  let r = patternCache.get(p);
  if (!r) {
    r = new RegExp(p);
    patternCache.set(p, r);
  }
  return r;
}

/** Whole KES or KES with up to 2 decimals ("100", "100.5", "1,000") → minor units. */
export function parseKes(input: string): bigint | undefined {
  const s = input.replace(/,/g, '').trim();
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(s)) return undefined;
  const [w, f = ''] = s.split('.') as [string, string?];
  return BigInt(w) * 100n + BigInt((f + '00').slice(0, 2));
}

export function validateInput(def: InputDef, raw: string, values: Record<string, string>): Validation {
  const input = raw.trim();
  switch (def.type) {
    case 'amount': {
      const minor = parseKes(input);
      if (minor === undefined) return { ok: false, reason: 'amount_format' };
      if (def.whole && minor % 100n !== 0n) return { ok: false, reason: 'amount_whole' };
      if (minor < BigInt(Math.round((def.min ?? 0) * 100)) || minor > BigInt(Math.round((def.max ?? 0) * 100))) return { ok: false, reason: 'amount_range' };
      return { ok: true, value: minor.toString() };
    }
    case 'phone': {
      const p = parsePhoneFast(input);
      return p.ok ? { ok: true, value: p.e164 } : { ok: false, reason: 'phone' };
    }
    case 'pin':
      if (!/^\d{4}$/.test(input)) return { ok: false, reason: 'pin' };
      break;
    case 'digits':
      if (!/^\d+$/.test(input) || input.length < (def.min ?? 1) || input.length > (def.max ?? 20)) return { ok: false, reason: 'digits' };
      break;
    case 'text':
      if (input.length < (def.min ?? 1) || input.length > (def.max ?? 60)) return { ok: false, reason: 'text' };
      break;
    case 'pattern':
      break;
  }
  if (def.pattern !== undefined) {
    const p = typeof def.pattern === 'string' ? def.pattern : def.pattern[values[def.pattern_by ?? ''] ?? ''];
    if (p === undefined || !re(p).test(input)) return { ok: false, reason: 'pattern' };
  }
  if (def.equals !== undefined && values[def.equals] !== input) return { ok: false, reason: 'equals' };
  return { ok: true, value: input };
}
