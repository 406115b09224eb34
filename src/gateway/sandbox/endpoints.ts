// The sandbox's own table of the Kyanda-family API v2 (KYANDA-WIRE.md, seeds 002/003): one entry
// per endpoint with its path, required fields, signature order and field rules. Written from the
// docs independently of src/gateway/kyanda so the two cross-check each other.
import { SandboxError } from './codes.js';
import { at, checkAmount, checkOneOf, checkPhone, present, text, type Body } from './wire.js';

export type Category =
  | 'Airtime' | 'PinAirtime' | 'BillPayment' | 'Checkout' | 'MobilePayout' | 'BankPayout' | 'B2B' | 'UPI' | 'SMS';

/** What an accepted request asks the sandbox to do. */
export type Intent =
  | { kind: 'balance' }
  | { kind: 'status'; ref: string }
  | { kind: 'callback'; url: string }
  | { kind: 'telco'; prefix: string }
  | {
      kind: 'txn';
      category: Category;
      /** sync: final at once (Success); async: Pending then final after a delay; checkout: STK push. */
      mode: 'sync' | 'async' | 'checkout';
      amount: number;
      /** Vends draw on the float; checkout and SMS do not. */
      usesFloat: boolean;
      source: string;
      destination: string;
      /** Checkout phone, for the magic cancel / no-funds numbers. */
      payerPhone?: string;
      /** KPLC prepaid answers with a token; PIN airtime with a voucher. */
      extra?: 'token' | 'voucher';
      sms?: { recipients: string[]; message: string };
      /** B2B answers to its own resultUrl (ASSUMED: not the registered callback). */
      ipnUrl?: string;
      /** Added to the duplicate key beside the signature (SMS: the text). */
      dupSalt?: string;
    };

export interface SandboxEnv {
  merchantId: string;
  kplcPrepaid: string;
  kplcPostpaid: string;
}

export interface EndpointSpec {
  /** Ledger name ("airtime", "mobile-payout", …). */
  name: string;
  method: 'POST' | 'GET';
  path: string;
  required: readonly string[];
  /** Field paths concatenated in this order; null = apiKey only (verify). */
  signature: readonly string[] | null;
  /** Duplicate-transmission code for money/SMS endpoints; null = queries (never duplicates). */
  duplicateCode: '9005' | '8006' | null;
  /** Airtime family answers 900x, every other family 800x. */
  family: 'airtime' | 'bill';
  validate(body: Body, env: SandboxEnv): Intent;
}

export const AIRTIME_TELCOS = ['SAFARICOM', 'AIRTEL', 'TELKOM', 'EQUITEL', 'FAIBA', 'FAIBA_B'] as const;
export const PIN_TELCOS = ['SAFARICOM', 'AIRTEL', 'TELKOM'] as const;
export const WALLET_CHANNELS = ['MPESA', 'AIRTEL', 'EQUITEL'] as const;
export const B2B_CHANNELS = ['BusinessPayBill', 'BusinessBuyGoods'] as const;
const TV_WATER_BILLERS = ['GOTV', 'DSTV', 'ZUKU', 'STARTIMES', 'NAIROBI_WTR'];

export const AIRTIME_MIN_KES = 5;
export const AIRTIME_MAX_KES = 10_000;
export const BILL_MAX_KES = 150_000;
export const PAYOUT_MAX_KES = 150_000;
export const BULK_MAX_RECIPIENTS = 1000;

export const BANK_CODES: Record<string, string> = {
  '101': 'Absa Bank', '102': 'Co-operative Bank', '103': 'Equity Bank', '104': 'Family Bank',
  '105': 'KCB Bank Kenya', '106': 'Standard Chartered', '108': 'I & M Bank', '112': 'NCBA Bank',
  '113': 'Stanbic Bank', '119': 'DTB Kenya', '124': 'Bank of Africa', '133': 'National Bank',
  '143': 'Gulf African Bank', '146': 'Bank of India',
};

/** Faiba bundle prices (seed 002); combo codes have no published price: any amount ≥ 1. */
export const FAIBA_BUNDLES: Record<string, number | null> = {
  DAILY_DATA_100MB: 10, DAILY_DATA_225MB: 20, DailyData1GB: 50, WeeklyData8GB: 300,
  MONTHLY_DATA_30GB: 1000, MONTHLY_DATA_65GB: 2000, '60_DAY_DATA_100GB': 3000, '90_DAY_DATA_225GB': 6000,
  CHUI_DATA_5GB: null, KIFARU_DATA_7GB: null, NDOVU_DATA_10GB: null, SIMBA_DATA_20GB: null,
};

function airtimeIntent(body: Body, telcos: readonly string[], category: Category): Intent {
  const telco = checkOneOf(body, 'telco', telcos, '9002');
  const phone = checkPhone(body, 'phone', 'national', '9001');
  const initiator = checkPhone(body, 'initiatorPhone', 'e164', '9001');
  const amount = checkAmount(body, 'amount', '9003');
  if (amount > AIRTIME_MAX_KES) throw new SandboxError('9004', `max ${AIRTIME_MAX_KES} KES`);
  if (telco === 'FAIBA_B') {
    // Seed 000: "productCode is required when telco is FAIBA_B. Omitting it returns error 1108".
    if (!present(body, 'productCode')) throw new SandboxError('1108', 'productCode');
    const code = text(body, 'productCode') ?? '';
    if (!Object.hasOwn(FAIBA_BUNDLES, code)) throw new SandboxError('1109', 'unknown productCode');
    const price = FAIBA_BUNDLES[code];
    if (price != null && price !== amount) throw new SandboxError('8004', `${code} costs ${price} KES`);
  } else if (amount < AIRTIME_MIN_KES) {
    // ASSUMED: KYANDA-WIRE.md lists the 5 KES minimum under 9004 (limit), not 9003 (format).
    throw new SandboxError('9004', `min ${AIRTIME_MIN_KES} KES`);
  }
  return {
    kind: 'txn', category, mode: 'sync', amount, usesFloat: true, source: initiator, destination: phone,
    ...(category === 'PinAirtime' ? { extra: 'voucher' as const } : {}),
  };
}

function payoutAmount(body: Body, path: string): number {
  const amount = checkAmount(body, path, '8004');
  if (amount > PAYOUT_MAX_KES) throw new SandboxError('8005', `max ${PAYOUT_MAX_KES} KES`);
  return amount;
}

function httpUrl(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

const ENDPOINTS: EndpointSpec[] = [
  {
    // v2 path; the v1 examples all say /billing/v1/account-balance, a documented typo.
    name: 'balance', method: 'POST', path: '/api-link',
    required: ['MerchantID'], signature: ['MerchantID'], duplicateCode: null, family: 'bill',
    validate: () => ({ kind: 'balance' }),
  },
  {
    // ASSUMED path (the docs only show the typo'd account-balance path for it).
    name: 'transaction-status', method: 'POST', path: '/billing/v1/transaction-status',
    required: ['MerchantID', 'transactionRef'], signature: ['MerchantID', 'transactionRef'],
    duplicateCode: null, family: 'bill',
    validate: (b) => ({ kind: 'status', ref: text(b, 'transactionRef') ?? '' }),
  },
  {
    name: 'airtime', method: 'POST', path: '/billing/v1/airtime/create',
    required: ['MerchantID', 'phone', 'amount', 'telco', 'initiatorPhone'],
    signature: ['amount', 'phone', 'telco', 'initiatorPhone', 'MerchantID'], duplicateCode: '9005', family: 'airtime',
    validate: (b) => airtimeIntent(b, AIRTIME_TELCOS, 'Airtime'),
  },
  {
    name: 'pin-airtime', method: 'POST', path: '/billing/v1/pin-airtime/create',
    required: ['MerchantID', 'phone', 'amount', 'telco', 'initiatorPhone'],
    signature: ['amount', 'phone', 'telco', 'initiatorPhone', 'MerchantID'], duplicateCode: '9005', family: 'airtime',
    validate: (b) => airtimeIntent(b, PIN_TELCOS, 'PinAirtime'),
  },
  {
    name: 'bill', method: 'POST', path: '/billing/v1/bill/create',
    required: ['MerchantID', 'account', 'amount', 'telco', 'initiatorPhone'],
    signature: ['amount', 'account', 'telco', 'initiatorPhone', 'MerchantID'], duplicateCode: '8006', family: 'bill',
    validate: (b, env) => {
      const biller = checkOneOf(b, 'telco', [...TV_WATER_BILLERS, env.kplcPrepaid, env.kplcPostpaid], '8003');
      const account = text(b, 'account') ?? '';
      // ASSUMED format: the docs only say "Account Number. Eg 0123456789".
      if (!/^[A-Za-z0-9-]{4,20}$/.test(account)) throw new SandboxError('8001', 'account must be 4-20 letters/digits');
      const initiator = checkPhone(b, 'initiatorPhone', 'e164', '8002');
      const amount = checkAmount(b, 'amount', '8004');
      if (amount > BILL_MAX_KES) throw new SandboxError('8005', `max ${BILL_MAX_KES} KES`);
      return {
        kind: 'txn', category: 'BillPayment', mode: 'sync', amount, usesFloat: true, source: initiator, destination: account,
        ...(biller === env.kplcPrepaid ? { extra: 'token' as const } : {}),
      };
    },
  },
  {
    name: 'checkout', method: 'POST', path: '/billing/v1/checkout/create',
    required: ['MerchantID', 'phoneNumber', 'amount', 'channel'],
    signature: ['amount', 'phoneNumber', 'channel', 'MerchantID'], duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      checkOneOf(b, 'channel', WALLET_CHANNELS, '8003');
      const phone = checkPhone(b, 'phoneNumber', 'national', '8002');
      const amount = payoutAmount(b, 'amount');
      const md = at(b, 'metadata');
      if (md !== undefined && (md === null || typeof md !== 'object' || Array.isArray(md))) {
        throw new SandboxError('1109', 'metadata must be an object');
      }
      return {
        kind: 'txn', category: 'Checkout', mode: 'checkout', amount, usesFloat: false,
        source: phone, destination: 'PaymentWallet', payerPhone: phone,
      };
    },
  },
  {
    name: 'mobile-payout', method: 'POST', path: '/billing/v3/mobile-payout/create',
    required: ['MerchantID', 'source.initiatorName', 'source.initiatorCountry', 'destination.destinationPhone', 'destination.amount', 'destination.channel'],
    signature: ['destination.amount', 'destination.destinationPhone', 'source.initiatorName', 'source.initiatorCountry', 'destination.channel', 'MerchantID'],
    duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      checkOneOf(b, 'destination.channel', WALLET_CHANNELS, '8003');
      const phone = checkPhone(b, 'destination.destinationPhone', 'national', '8002');
      const amount = payoutAmount(b, 'destination.amount');
      return { kind: 'txn', category: 'MobilePayout', mode: 'async', amount, usesFloat: true, source: 'PaymentWallet', destination: phone };
    },
  },
  {
    name: 'bank-payout', method: 'POST', path: '/billing/v3/bank-payout/create',
    required: ['MerchantID', 'source.initiatorName', 'source.initiatorCountry', 'destination.name', 'destination.accountNumber', 'destination.phoneNumber', 'destination.amount', 'destination.bankCode'],
    signature: ['destination.amount', 'destination.accountNumber', 'destination.phoneNumber', 'destination.bankCode', 'source.initiatorName', 'source.initiatorCountry', 'MerchantID'],
    duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      const bank = text(b, 'destination.bankCode') ?? '';
      if (!Object.hasOwn(BANK_CODES, bank)) throw new SandboxError('1201', 'unknown bankCode');
      const account = text(b, 'destination.accountNumber') ?? '';
      // ASSUMED format: Kenyan bank account numbers are digits, 5 to 20 of them.
      if (!/^\d{5,20}$/.test(account)) throw new SandboxError('8001', 'accountNumber must be 5-20 digits');
      checkPhone(b, 'destination.phoneNumber', 'national', '8002');
      const amount = payoutAmount(b, 'destination.amount');
      return { kind: 'txn', category: 'BankPayout', mode: 'async', amount, usesFloat: true, source: 'PaymentWallet', destination: account };
    },
  },
  {
    name: 'b2b', method: 'POST', path: '/billing/v3/b2b/create',
    required: ['MerchantID', 'channel', 'resultUrl', 'destination.shortCode', 'destination.identifier', 'destination.amount'],
    signature: ['MerchantID', 'channel', 'destination.shortCode', 'destination.identifier', 'destination.amount'],
    duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      checkOneOf(b, 'channel', B2B_CHANNELS, '8003');
      const url = text(b, 'resultUrl');
      if (!httpUrl(url)) throw new SandboxError('6002', 'resultUrl must be http(s)');
      const shortCode = text(b, 'destination.shortCode') ?? '';
      // ASSUMED: paybill and till numbers are 5 to 7 digits.
      if (!/^\d{5,7}$/.test(shortCode)) throw new SandboxError('8001', 'shortCode must be 5-7 digits');
      checkPhone(b, 'destination.identifier', 'e164', '8002');
      const amount = payoutAmount(b, 'destination.amount');
      return { kind: 'txn', category: 'B2B', mode: 'async', amount, usesFloat: true, source: 'PaymentWallet', destination: shortCode, ipnUrl: url! };
    },
  },
  {
    // ASSUMED body and signature order: the docs give neither (KYANDA-WIRE.md).
    name: 'upi', method: 'POST', path: '/v1/transaction/transact-link',
    required: ['MerchantID', 'sender.account', 'sender.channel', 'sender.currency', 'recipient.account', 'recipient.channel', 'recipient.currency', 'amount'],
    signature: ['MerchantID', 'sender.account', 'sender.channel', 'recipient.account', 'recipient.channel', 'amount'],
    duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      for (const side of ['sender', 'recipient']) {
        const ch = text(b, `${side}.channel`) ?? '';
        // Bank 101+, Fintech 201+, Sacco 301+ (seed 002); ASSUMED each family stops at x99.
        if (!/^[123]\d\d$/.test(ch) || Number(ch) % 100 === 0) throw new SandboxError('8003', `${side}.channel must be 101-399`);
        if ((text(b, `${side}.currency`) ?? '') !== 'KES') throw new SandboxError('1109', `${side}.currency must be KES`);
        if (!/^[A-Za-z0-9-]{4,30}$/.test(text(b, `${side}.account`) ?? '')) throw new SandboxError('8001', `${side}.account`);
      }
      const amount = payoutAmount(b, 'amount');
      return {
        kind: 'txn', category: 'UPI', mode: 'async', amount, usesFloat: true,
        source: text(b, 'sender.account') ?? '', destination: text(b, 'recipient.account') ?? '',
      };
    },
  },
  {
    // message is ASSUMED optional text; without it the gateway sends the OTP itself.
    name: 'sms', method: 'POST', path: '/billing/v1/sms/send',
    required: ['MerchantID', 'phone'], signature: ['phone', 'otp', 'MerchantID'], duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      const phone = checkPhone(b, 'phone', 'national', '8002');
      const otp = text(b, 'otp');
      const message = text(b, 'message');
      if (!present(b, 'otp') && !present(b, 'message')) throw new SandboxError('1108', 'otp or message');
      if (otp !== undefined && otp !== '' && !/^\d{4,8}$/.test(otp)) throw new SandboxError('1109', 'otp must be 4-8 digits');
      if (message !== undefined && message.length > 1600) throw new SandboxError('1109', 'message longer than 1600 characters');
      const textToSend = message && message !== '' ? message : `Your verification code is ${otp}`;
      return {
        kind: 'txn', category: 'SMS', mode: 'sync', amount: 0, usesFloat: false, source: 'SMS', destination: phone,
        sms: { recipients: [`+254${phone.slice(1)}`], message: textToSend },
        // Without this every text to one phone within the window would be a "duplicate".
        dupSalt: textToSend,
      };
    },
  },
  {
    // ASSUMED path and signature order (MerchantID + message + phones joined by ",").
    name: 'sms-bulk', method: 'POST', path: '/billing/v1/sms/bulk',
    required: ['MerchantID', 'phones', 'message'], signature: ['MerchantID', 'message', 'phones'], duplicateCode: '8006', family: 'bill',
    validate: (b) => {
      const phones = at(b, 'phones');
      if (!Array.isArray(phones) || phones.length === 0) throw new SandboxError('1108', 'phones');
      if (phones.length > BULK_MAX_RECIPIENTS) throw new SandboxError('1109', `at most ${BULK_MAX_RECIPIENTS} phones per request`);
      const message = text(b, 'message') ?? '';
      if (message.length > 1600) throw new SandboxError('1109', 'message longer than 1600 characters');
      const recipients = phones.map((p, i) => {
        // ASSUMED: one bad number rejects the request (8002) naming its index.
        if (typeof p !== 'string' || !/^0[17]\d{8}$/.test(p)) throw new SandboxError('8002', `phones[${i}]`);
        return `+254${p.slice(1)}`;
      });
      return {
        kind: 'txn', category: 'SMS', mode: 'sync', amount: 0, usesFloat: false, source: 'SMS',
        destination: `${phones.length} recipients`, sms: { recipients, message },
      };
    },
  },
  {
    // Signature of MerchantID only, as documented.
    name: 'callback-url', method: 'POST', path: '/billing/v1/callback-url/create',
    required: ['MerchantID', 'callbackURL'], signature: ['MerchantID'], duplicateCode: null, family: 'bill',
    validate: (b) => {
      const url = text(b, 'callbackURL');
      if (!httpUrl(url)) throw new SandboxError('6002', 'callbackURL must be http(s)');
      // Seed 002's URL requirements ("Avoid exec, cmd, sql in URLs. No public tunnels (ngrok,
      // requestbin)"); ASSUMED to be what 6001 "Cannot register URL" means.
      const u = new URL(url!);
      if (/exec|cmd|sql/i.test(u.pathname + u.search) || /(^|\.)(ngrok(-free)?\.(io|app|dev)|requestbin\.(com|net))$/i.test(u.hostname)) {
        throw new SandboxError('6001', 'URL not allowed');
      }
      return { kind: 'callback', url: url! };
    },
  },
  {
    // ASSUMED signature order prefix + MerchantID.
    name: 'telco-check', method: 'POST', path: '/api-telco-check',
    required: ['MerchantID', 'prefix'], signature: ['prefix', 'MerchantID'], duplicateCode: null, family: 'bill',
    validate: (b) => {
      const prefix = text(b, 'prefix') ?? '';
      if (!/^\d{3}$/.test(prefix)) throw new SandboxError('1109', 'prefix must be 3 digits');
      return { kind: 'telco', prefix };
    },
  },
  {
    // Documented as a GET with the apiKey header only; ASSUMED unsigned.
    name: 'verify', method: 'GET', path: '/transactions/:ref/verify',
    required: [], signature: null, duplicateCode: null, family: 'bill',
    validate: () => ({ kind: 'status', ref: '' }),
  },
];

export function endpoints(): readonly EndpointSpec[] {
  return ENDPOINTS;
}

/** The wire string of a signature field: arrays (bulk phones) are joined by "," (ASSUMED). */
export function signatureValue(body: Body, path: string): string {
  const v = at(body, path);
  if (Array.isArray(v)) return v.map((x) => String(x)).join(',');
  return text(body, path) ?? '';
}
