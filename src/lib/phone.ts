// Phone numbers, normalized once at the edge: the same subscriber arrives as +2547…, 2547…, 07…
// and 7…; inside the service a phone is E.164, and each gateway field gets its own format.
// libphonenumber-js/max carries the full metadata: the default build only checks lengths.
import { parsePhoneNumberWithError, ParseError, type CountryCode } from 'libphonenumber-js/max';

export type Telco = 'SAFARICOM' | 'AIRTEL' | 'TELKOM' | 'EQUITEL' | 'FAIBA' | 'OTHER';

export interface Phone {
  /** +254712345678 */
  e164: string;
  /** 254712345678 (what aggregators send, and the form used in Redis keys) */
  msisdn: string;
  /** 0712345678: the 10-digit form several gateway fields require */
  national: string;
  telco: Telco;
  /** ISO 3166 country of the number (KE for every number parsePhone accepts). */
  country?: CountryCode;
}

export type PhoneResult = ({ ok: true } & Phone) | { ok: false; reason: string };

// Kenyan mobile prefixes (the 3 digits after 0), from the Communications Authority of Kenya
// numbering-plan allocations as published by the operators (checked 2025). One place only:
// the gateway's telco field and the agent's networkCode cross-check both read it.
const PREFIXES: Array<[Telco, string[]]> = [
  ['SAFARICOM', ['700-729', '740-743', '745', '746', '748', '757-759', '768', '769', '790-799', '110-115']],
  ['AIRTEL', ['730-739', '750-756', '762', '780-789', '100-102']],
  ['TELKOM', ['770-779']],
  ['EQUITEL', ['763-766']],
  ['FAIBA', ['747']],
];
const TELCO_BY_PREFIX = new Map<string, Telco>();
for (const [telco, ranges] of PREFIXES) {
  for (const r of ranges) {
    const [a, b = a] = r.split('-') as [string, string?];
    for (let p = Number(a); p <= Number(b); p++) TELCO_BY_PREFIX.set(String(p).padStart(3, '0'), telco);
  }
}

/** Kenyan network codes (MCC+MNC) as Africa's Talking sends them in `networkCode`. */
export const NETWORK_CODES: Record<string, Telco> = {
  '63902': 'SAFARICOM',
  '63903': 'AIRTEL',
  '63907': 'TELKOM',
  '63999': 'EQUITEL',
};

export function telcoOf(nationalSignificant: string): Telco {
  return TELCO_BY_PREFIX.get(nationalSignificant.slice(0, 3)) ?? 'OTHER';
}

/**
 * Parse any Kenyan form (+2547…, 2547…, 07…, 01…, 7…) or E.164 of another country.
 * Only Kenyan mobile numbers are accepted: that is all the gateways can reach.
 */
export function parsePhone(input: unknown): PhoneResult {
  if (typeof input !== 'string' && typeof input !== 'number') return { ok: false, reason: 'missing' };
  let raw = String(input)
    .trim()
    .replace(/[\s().-]/g, '');
  if (raw === '') return { ok: false, reason: 'missing' };
  if (!/^\+?\d+$/.test(raw)) return { ok: false, reason: 'not a number' };
  // "2547…" without the plus is international form; libphonenumber would read it as national.
  if (/^254\d{9}$/.test(raw)) raw = `+${raw}`;
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(raw, 'KE');
  } catch (e) {
    const reason = e instanceof ParseError ? e.message.toLowerCase().replace(/_/g, ' ') : 'unparseable';
    return { ok: false, reason };
  }
  if (parsed.country !== 'KE') return { ok: false, reason: 'not a Kenyan number' };
  if (!parsed.isValid()) return { ok: false, reason: 'invalid number' };
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return { ok: false, reason: 'not a mobile number' };
  const nsn = parsed.nationalNumber;
  return {
    ok: true,
    e164: parsed.number,
    msisdn: parsed.number.slice(1),
    national: `0${nsn}`,
    telco: telcoOf(nsn),
    country: 'KE',
  };
}

/** The phone formats gateway fields ask for (docs/gateways.md, "Phone numbers"). */
export type PhoneFormat = 'e164' | 'msisdn' | 'national';

export function formatPhone(p: Phone, format: PhoneFormat): string {
  return p[format];
}

// Bulk lists run to a million numbers; libphonenumber costs ~11 µs a number. Every Kenyan form
// reduces to a 9-digit national significant number, and KE mobile validity is decided by its
// leading digits, so the verdict of the full parser is cached per 4-digit prefix: same answers,
// one full parse per prefix instead of per number (test/sms/phone.unit.test.ts checks the equivalence).
const KE_NSN = /^(?:\+?254|0)?([17]\d{8})$/;
const prefixVerdict = new Map<string, { ok: true; telco: Telco } | { ok: false; reason: string }>();

/** parsePhone with a per-prefix cache for the common Kenyan shapes; identical results. */
export function parsePhoneFast(input: unknown): PhoneResult {
  if (typeof input !== 'string') return parsePhone(input);
  const m = KE_NSN.exec(/[\s().-]/.test(input) ? input.replace(/[\s().-]/g, '') : input);
  if (!m) return parsePhone(input);
  const nsn = m[1]!;
  const pfx = nsn.slice(0, 4);
  let v = prefixVerdict.get(pfx);
  if (!v) {
    const full = parsePhone(`0${nsn}`);
    v = full.ok ? { ok: true, telco: full.telco } : { ok: false, reason: full.reason };
    prefixVerdict.set(pfx, v);
  }
  if (!v.ok) return v;
  return { ok: true, e164: `+254${nsn}`, msisdn: `254${nsn}`, national: `0${nsn}`, telco: v.telco, country: 'KE' };
}

function mobileOf(raw: string, country?: CountryCode): PhoneResult | undefined {
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(raw, country);
  } catch {
    return undefined;
  }
  if (!parsed.country || !parsed.isValid()) return undefined;
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return { ok: false, reason: 'not a mobile number' };
  const nsn = parsed.nationalNumber;
  return {
    ok: true,
    e164: parsed.number,
    msisdn: parsed.number.slice(1),
    national: `0${nsn}`,
    telco: parsed.country === 'KE' ? telcoOf(nsn) : 'OTHER',
    country: parsed.country,
  };
}

/**
 * A USSD subscriber's number from any country, as aggregators send it: E.164 with or without
 * "+" (Ghanaian and Tanzanian aggregators send 233…/255… bare), or a national form of one of
 * `countries`. Kenyan forms take the cached path above. The caller decides what to do with a
 * valid number of a country it does not serve (`country` says which).
 */
export function parseSubscriberPhone(input: string, countries: readonly CountryCode[]): PhoneResult {
  const ke = parsePhoneFast(input);
  if (ke.ok) return ke;
  const raw = input.trim().replace(/[\s().-]/g, '');
  if (!/^\+?\d{6,15}$/.test(raw)) return ke;
  const intl = mobileOf(`+${raw.replace(/^\+/, '')}`);
  if (intl) return intl;
  if (!raw.startsWith('+')) {
    for (const c of countries) {
      const national = mobileOf(raw, c);
      if (national?.ok) return national;
    }
  }
  return ke.reason === 'not a Kenyan number' ? { ok: false, reason: 'invalid number' } : ke;
}
