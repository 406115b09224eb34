// The Kyanda-family API v2, one declarative entry per endpoint (/work/notes/KYANDA-WIRE.md).
// Adding an endpoint = adding an entry here. Each entry says: path and method; how our request
// becomes the wire body (amounts "1500", minor units in); the signature as an ordered list of
// value getters over that body; which phone format each phone field wants; how the answer maps.
// Anything the docs do not state is marked ASSUMED and lives only in this file.
import type { Config } from '../../config.js';
import type {
  AirtimeRequest, B2BRequest, BankPayoutRequest, BillRequest, BulkSmsRequest, CheckoutRequest,
  MobilePayoutRequest, SmsRequest, UpiRequest, Biller,
} from '../types.js';
import { kyandaError } from './codes.js';

export type WireBody = Record<string, unknown>;
export type Getter = (body: WireBody) => string;
/** 'national' = 07… (10 digits), 'e164' = +254…. */
export type PhoneFormat = 'national' | 'e164';
/**
 * Which error family the endpoint's validation codes come from (seed 003 appendix):
 * airtime → 9001 phone / 9003 amount / 9005 duplicate; bill (also payouts, checkout, B2B, UPI)
 * → 8002 / 8004 / 8006; other → 1109 for any malformed field.
 */
export type Family = 'airtime' | 'bill' | 'other';
/**
 * money/message: not idempotent; after an unknown outcome look it up by our reference, never
 * re-send. query: reads and registrations, safe to re-send.
 */
export type Kind = 'money' | 'message' | 'query';

export interface BuildContext { merchantId: string; config: Pick<Config, 'BILLER_KPLC_PREPAID' | 'BILLER_KPLC_POSTPAID'> }

export interface Endpoint<Req> {
  name: string;
  method: 'GET' | 'POST';
  path: (req: Req) => string;
  kind: Kind;
  family: Family;
  /** Wire body without signature, metadata and offline_mode (the caller adds those). */
  build(req: Req, ctx: BuildContext): WireBody;
  /** Dotted body path → format. Values are parsed with parsePhone and rewritten; arrays per element. */
  phones: Record<string, PhoneFormat>;
  /** Concatenated in this order and HMAC-SHA256'd; null = unsigned. */
  signature: Getter[] | null;
  /** Whether metadata.reference (our idempotency key) is sent. ASSUMED: on every money/SMS call. */
  carriesReference: boolean;
}

/** Getter for a dotted path; missing values concatenate as "" (KYANDA-WIRE). */
export function v(path: string): Getter {
  return (body) => {
    let cur: unknown = body;
    for (const part of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
    return cur === undefined || cur === null ? '' : String(cur);
  };
}

const AMOUNT_CODE: Record<Family, string> = { airtime: '9003', bill: '8004', other: '1109' };

/** Minor units → whole-KES wire string. Cents cannot be sent: reject before sending. */
export function kes(amountMinor: number, family: Family): string {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0 || amountMinor % 100 !== 0) {
    throw kyandaError(AMOUNT_CODE[family], 'amount must be a positive whole number of KES');
  }
  return String(amountMinor / 100);
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value.trim() === '') throw kyandaError('1108', `missing ${field}`);
  return value;
}

/** Bank codes (seed 002, bank payout table). Any other → 1201 before sending. */
export const BANK_CODES: Readonly<Record<string, string>> = {
  '101': 'Absa Bank', '102': 'Co-operative Bank', '103': 'Equity Bank', '104': 'Family Bank',
  '105': 'KCB Bank Kenya', '106': 'Standard Chartered', '108': 'I & M Bank', '112': 'NCBA Bank',
  '113': 'Stanbic Bank', '119': 'DTB Kenya', '124': 'Bank of Africa', '133': 'National Bank',
  '143': 'Gulf African Bank', '146': 'Bank of India',
};

/** Kenya Power has no documented code: configuration (BILLER_KPLC_*), defaults in config.ts. */
function billerCode(biller: Biller, ctx: BuildContext): string {
  if (biller === 'KPLC_PREPAID') return ctx.config.BILLER_KPLC_PREPAID;
  if (biller === 'KPLC_POSTPAID') return ctx.config.BILLER_KPLC_POSTPAID;
  return biller;
}

/** UPI institution codes: banks 101+, fintechs 201+, saccos 301+ (news, Apr 2025). */
export function upiChannelOk(code: number): boolean {
  return Number.isInteger(code) && code >= 101 && code <= 399 && code % 100 !== 0;
}

export const BULK_SMS_MAX = 1000;

const PIN_TELCOS = new Set(['SAFARICOM', 'AIRTEL', 'TELKOM']);

function airtimeBody(r: AirtimeRequest, ctx: BuildContext): WireBody {
  // FAIBA_B (bundles) needs productCode (news Oct 2024: "Omitting it returns error 1108").
  if (r.telco === 'FAIBA_B') required(r.productCode, 'productCode');
  return {
    MerchantID: ctx.merchantId, phone: r.phone, amount: kes(r.amountMinor, 'airtime'), telco: r.telco,
    initiatorPhone: r.initiatorPhone, ...(r.telco === 'FAIBA_B' ? { productCode: r.productCode } : {}),
  };
}

// Documented in seed 003 (v1) and kept by v2: amount + phone + telco + initiatorPhone + MerchantID.
const AIRTIME_SIG = [v('amount'), v('phone'), v('telco'), v('initiatorPhone'), v('MerchantID')];

export const ENDPOINTS = {
  balance: {
    name: 'balance', method: 'POST', kind: 'query', family: 'other', carriesReference: false,
    // v2 path (seed 002); the v1 samples' /billing/v1/account-balance is the documented typo.
    path: () => '/api-link',
    build: (_r, ctx) => ({ MerchantID: ctx.merchantId }),
    phones: {},
    signature: [v('MerchantID')],
  } satisfies Endpoint<void>,

  transactionStatus: {
    name: 'transactionStatus', method: 'POST', kind: 'query', family: 'other', carriesReference: false,
    // ASSUMED path: the docs show only the typo path; order MerchantID + transactionRef is documented (seed 003).
    path: () => '/billing/v1/transaction-status',
    build: (ref, ctx) => ({ MerchantID: ctx.merchantId, transactionRef: required(ref, 'transactionRef') }),
    phones: {},
    signature: [v('MerchantID'), v('transactionRef')],
  } satisfies Endpoint<string>,

  verify: {
    name: 'verify', method: 'GET', kind: 'query', family: 'other', carriesReference: false,
    path: (ref) => `/transactions/${encodeURIComponent(ref)}/verify`, // documented (seed 002)
    build: () => ({}),
    phones: {},
    signature: null, // ASSUMED: a GET with no body; apiKey header only
  } satisfies Endpoint<string>,

  airtime: {
    name: 'airtime', method: 'POST', kind: 'money', family: 'airtime', carriesReference: true,
    path: () => '/billing/v1/airtime/create',
    build: airtimeBody,
    phones: { phone: 'national', initiatorPhone: 'e164' },
    signature: AIRTIME_SIG,
  } satisfies Endpoint<AirtimeRequest>,

  pinAirtime: {
    name: 'pinAirtime', method: 'POST', kind: 'money', family: 'airtime', carriesReference: true,
    path: () => '/billing/v1/pin-airtime/create',
    build: (r, ctx) => {
      if (!PIN_TELCOS.has(r.telco)) throw kyandaError('9002', 'PIN airtime is SAFARICOM, AIRTEL or TELKOM only');
      return airtimeBody(r, ctx);
    },
    phones: { phone: 'national', initiatorPhone: 'e164' },
    signature: AIRTIME_SIG,
  } satisfies Endpoint<AirtimeRequest>,

  bill: {
    name: 'bill', method: 'POST', kind: 'money', family: 'bill', carriesReference: true,
    path: () => '/billing/v1/bill/create',
    build: (r: BillRequest, ctx) => ({
      MerchantID: ctx.merchantId, account: required(r.account, 'account'), amount: kes(r.amountMinor, 'bill'),
      telco: billerCode(r.biller, ctx), initiatorPhone: r.initiatorPhone,
    }),
    phones: { initiatorPhone: 'e164' },
    // Documented (seed 003, news Oct 2023).
    signature: [v('amount'), v('account'), v('telco'), v('initiatorPhone'), v('MerchantID')],
  } satisfies Endpoint<BillRequest>,

  checkout: {
    name: 'checkout', method: 'POST', kind: 'money', family: 'bill', carriesReference: true,
    path: () => '/billing/v1/checkout/create',
    build: (r: CheckoutRequest, ctx) => ({
      MerchantID: ctx.merchantId, phoneNumber: r.phone, amount: kes(r.amountMinor, 'bill'), channel: r.channel,
      metadata: { ...(r.metadata ?? {}) },
    }),
    phones: { phoneNumber: 'national' },
    signature: [v('amount'), v('phoneNumber'), v('channel'), v('MerchantID')], // documented (seed 003)
  } satisfies Endpoint<CheckoutRequest>,

  mobilePayout: {
    name: 'mobilePayout', method: 'POST', kind: 'money', family: 'bill', carriesReference: true,
    path: () => '/billing/v3/mobile-payout/create',
    build: (r: MobilePayoutRequest, ctx) => ({
      MerchantID: ctx.merchantId,
      source: { initiatorName: required(r.initiatorName, 'initiatorName'), initiatorCountry: required(r.initiatorCountry, 'initiatorCountry') },
      destination: { destinationPhone: r.phone, amount: kes(r.amountMinor, 'bill'), channel: r.channel },
    }),
    phones: { 'destination.destinationPhone': 'national' },
    // Documented (seeds 002, 003): "amount + phone + InitiatorName + InitiatorCountry + channel + MerchantID".
    signature: [v('destination.amount'), v('destination.destinationPhone'), v('source.initiatorName'), v('source.initiatorCountry'), v('destination.channel'), v('MerchantID')],
  } satisfies Endpoint<MobilePayoutRequest>,

  bankPayout: {
    name: 'bankPayout', method: 'POST', kind: 'money', family: 'bill', carriesReference: true,
    path: () => '/billing/v3/bank-payout/create',
    build: (r: BankPayoutRequest, ctx) => {
      if (!BANK_CODES[r.bankCode]) throw kyandaError('1201', `bank code ${r.bankCode} not in the table`);
      return {
        MerchantID: ctx.merchantId,
        source: { initiatorName: required(r.initiatorName, 'initiatorName'), initiatorCountry: required(r.initiatorCountry, 'initiatorCountry') },
        destination: {
          name: required(r.name, 'name'), accountNumber: required(r.accountNumber, 'accountNumber'), phoneNumber: r.phone,
          amount: kes(r.amountMinor, 'bill'), bankCode: r.bankCode,
        },
      };
    },
    phones: { 'destination.phoneNumber': 'national' },
    // Documented (seeds 002, 003); the seed's example string reuses the mobile one (typo), the order stands.
    signature: [v('destination.amount'), v('destination.accountNumber'), v('destination.phoneNumber'), v('destination.bankCode'), v('source.initiatorName'), v('source.initiatorCountry'), v('MerchantID')],
  } satisfies Endpoint<BankPayoutRequest>,

  b2b: {
    name: 'b2b', method: 'POST', kind: 'money', family: 'bill', carriesReference: true,
    path: () => '/billing/v3/b2b/create',
    build: (r: B2BRequest, ctx) => ({
      MerchantID: ctx.merchantId, channel: r.channel, resultUrl: required(r.resultUrl, 'resultUrl'),
      destination: { shortCode: required(r.shortCode, 'shortCode'), identifier: r.identifier, amount: kes(r.amountMinor, 'bill'), remarks: r.remarks },
    }),
    phones: { 'destination.identifier': 'e164' },
    // Documented (news Apr 2025): MerchantID + channel + shortCode + identifier + amount.
    signature: [v('MerchantID'), v('channel'), v('destination.shortCode'), v('destination.identifier'), v('destination.amount')],
  } satisfies Endpoint<B2BRequest>,

  upiTransfer: {
    name: 'upiTransfer', method: 'POST', kind: 'money', family: 'bill', carriesReference: true,
    path: () => '/v1/transaction/transact-link', // documented (seed 002, changelog)
    build: (r: UpiRequest, ctx) => {
      for (const c of [r.senderChannel, r.recipientChannel]) {
        // 8003 "invalid channel", as the sandbox answers (the docs give UPI no code of its own).
        if (!upiChannelOk(c)) throw kyandaError('8003', `UPI channel ${c} outside 101+/201+/301+`);
      }
      // ASSUMED body shape: the docs name the parts (sender/recipient account, channel, currency, amount) only.
      return {
        MerchantID: ctx.merchantId,
        sender: { account: required(r.senderAccount, 'sender.account'), channel: String(r.senderChannel), currency: required(r.senderCurrency, 'sender.currency') },
        recipient: { account: required(r.recipientAccount, 'recipient.account'), channel: String(r.recipientChannel), currency: required(r.recipientCurrency, 'recipient.currency') },
        amount: kes(r.amountMinor, 'bill'),
        ...(r.narration ? { narration: r.narration } : {}),
      };
    },
    phones: {},
    // ASSUMED order (undocumented): MerchantID + sender.account + sender.channel + recipient.account + recipient.channel + amount.
    signature: [v('MerchantID'), v('sender.account'), v('sender.channel'), v('recipient.account'), v('recipient.channel'), v('amount')],
  } satisfies Endpoint<UpiRequest>,

  sms: {
    // family 'bill': the docs give SMS no codes; we read 8002/8006 like the other non-airtime calls.
    name: 'sms', method: 'POST', kind: 'message', family: 'bill', carriesReference: true,
    path: () => '/billing/v1/sms/send',
    // ASSUMED: `message` carries free text; without it the gateway sends the OTP (docs show only otp).
    build: (r: SmsRequest, ctx) => {
      if (!r.otp && !r.message) throw kyandaError('1108', 'otp or message');
      return {
        MerchantID: ctx.merchantId, phone: r.phone,
        ...(r.otp ? { otp: r.otp } : {}),
        ...(r.message ? { message: r.message } : {}),
      };
    },
    phones: { phone: 'national' },
    signature: [v('phone'), v('otp'), v('MerchantID')], // documented (seed 002)
  } satisfies Endpoint<SmsRequest>,

  bulkSms: {
    name: 'bulkSms', method: 'POST', kind: 'message', family: 'bill', carriesReference: true,
    path: () => '/billing/v1/sms/bulk', // ASSUMED path (changelog names the feature, not the path)
    build: (r: BulkSmsRequest, ctx) => {
      if (r.phones.length === 0) throw kyandaError('1108', 'no recipients');
      if (r.phones.length > BULK_SMS_MAX) throw kyandaError('1109', `bulk SMS takes at most ${BULK_SMS_MAX} numbers per request`);
      return { MerchantID: ctx.merchantId, phones: [...r.phones], message: required(r.message, 'message') };
    },
    phones: { phones: 'national' },
    // ASSUMED order (undocumented): MerchantID + message + phones joined by ",".
    signature: [v('MerchantID'), v('message'), (b) => (Array.isArray(b.phones) ? b.phones.join(',') : '')],
  } satisfies Endpoint<BulkSmsRequest>,

  registerCallback: {
    name: 'registerCallback', method: 'POST', kind: 'query', family: 'other', carriesReference: false,
    path: () => '/billing/v1/callback-url/create',
    build: (url: string, ctx) => {
      if (!/^https?:\/\/\S+$/i.test(url)) throw kyandaError('6002', 'callback URL must be http(s)');
      return { MerchantID: ctx.merchantId, callbackURL: url };
    },
    phones: {},
    signature: [v('MerchantID')], // as documented (seed 003): the URL itself is not signed
  } satisfies Endpoint<string>,

  telcoCheck: {
    name: 'telcoCheck', method: 'POST', kind: 'query', family: 'other', carriesReference: false,
    path: () => '/api-telco-check', // documented (seed 002)
    build: (prefix: string, ctx) => ({ MerchantID: ctx.merchantId, prefix }),
    phones: {},
    signature: [v('prefix'), v('MerchantID')], // ASSUMED order (undocumented)
  } satisfies Endpoint<string>,
};

export type EndpointName = keyof typeof ENDPOINTS;
