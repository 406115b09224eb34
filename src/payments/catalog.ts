// What can be bought: Faiba bundles (docs/gateways.md, "Airtime": the price table), billers and
// their account rules (the default menu's patterns), and the telco an airtime vend goes to.
import type { AirtimeTelco, Biller, MobileChannel } from '../gateway/types.js';
import { NETWORK_CODES, type Telco } from '../lib/phone.js';

/** productCode → price in minor units. */
export const BUNDLES: Readonly<Record<string, number>> = {
  DAILY_DATA_100MB: 1_000,
  DAILY_DATA_225MB: 2_000,
  DailyData1GB: 5_000,
  WeeklyData8GB: 30_000,
  MONTHLY_DATA_30GB: 100_000,
  MONTHLY_DATA_65GB: 200_000,
  '60_DAY_DATA_100GB': 300_000,
  '90_DAY_DATA_225GB': 600_000,
};

export const BILLER_ACCOUNT: Readonly<Record<Biller, RegExp>> = {
  KPLC_PREPAID: /^\d{11}$/,
  KPLC_POSTPAID: /^\d{6,12}$/,
  DSTV: /^\d{10}$/,
  GOTV: /^\d{10}$/,
  ZUKU: /^\d{6,10}$/,
  STARTIMES: /^\d{11}$/,
  NAIROBI_WTR: /^\d{4,12}$/,
};

export const BILLER_NAME: Readonly<Record<Biller, string>> = {
  KPLC_PREPAID: 'KPLC Prepaid',
  KPLC_POSTPAID: 'KPLC Postpaid',
  DSTV: 'DSTV',
  GOTV: 'GOTV',
  ZUKU: 'ZUKU',
  STARTIMES: 'StarTimes',
  NAIROBI_WTR: 'Nairobi Water',
};

export function isBiller(s: string | undefined): s is Biller {
  return s !== undefined && Object.hasOwn(BILLER_ACCOUNT, s);
}

export const LIMITS = {
  airtime: { min: 1_000, max: 1_000_000 },
  bill: { min: 1_000, max: 15_000_000 },
  merchant: { min: 1_000, max: 15_000_000 },
} as const;

const AIRTIME_TELCO: Partial<Record<Telco, AirtimeTelco>> = {
  SAFARICOM: 'SAFARICOM',
  AIRTEL: 'AIRTEL',
  TELKOM: 'TELKOM',
  EQUITEL: 'EQUITEL',
  FAIBA: 'FAIBA',
};

/**
 * The network to top up. The prefix says which network issued the number; when the recipient is
 * the subscriber dialling, the aggregator's networkCode says which network the SIM is on now
 * (numbers can be ported), so it wins when the two disagree.
 */
export function airtimeTelco(prefixTelco: Telco, networkCode: string | undefined, isSelf: boolean): { telco?: AirtimeTelco; mismatch: boolean } {
  const byNetwork = isSelf && networkCode ? NETWORK_CODES[networkCode] : undefined;
  const chosen = byNetwork ?? prefixTelco;
  return { ...(AIRTEL_OK(chosen) ? { telco: AIRTIME_TELCO[chosen] } : {}), mismatch: byNetwork !== undefined && byNetwork !== prefixTelco };
}
const AIRTEL_OK = (t: Telco) => AIRTIME_TELCO[t] !== undefined;

/** Which mobile-money rail a payer's checkout or refund goes to. */
export function channelFor(telco: Telco): MobileChannel {
  return telco === 'AIRTEL' ? 'AIRTEL' : telco === 'EQUITEL' ? 'EQUITEL' : 'MPESA';
}

/** Minor units → "100" or "100.50". */
export function kes(minor: number): string {
  const whole = Math.trunc(minor / 100);
  const cents = minor % 100;
  return cents === 0 ? String(whole) : `${whole}.${String(cents).padStart(2, '0')}`;
}

/** 20-digit Kenya Power token → 5 groups of 4. */
export function formatToken(t: string): string {
  const d = t.replace(/\D/g, '');
  return d.length === 20 ? d.match(/.{4}/g)!.join('-') : t;
}
