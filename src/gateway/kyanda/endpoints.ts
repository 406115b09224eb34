// The Kyanda-family API v2, one declarative entry per endpoint (docs/gateways.md, "Kyanda-family
// API v2"). Adding an endpoint = adding an entry here. Each entry says: path and method; how our
// request becomes the wire body (amounts "1500", minor units in); the signature as an ordered list
// of value getters over that body; which fields hold phone numbers; how the answer maps.
// What the documents leave open is decided in wire-choices.ts (shared with the sandbox) and
// listed in docs/gateways.md, "Wire choices".
import type { Config } from '../../config.js';
import type {
  AirtimeRequest,
  B2BRequest,
  BankPayoutRequest,
  BillRequest,
  BulkSmsRequest,
  CheckoutRequest,
  MobilePayoutRequest,
  SmsRequest,
  UpiRequest,
  Biller,
} from '../types.js';
import { kyandaError } from './codes.js';
import { AIRTIME_PHONE_FIELDS, countryName, SMS, TELCO_CHECK_SIGNATURE, TRANSACTION_STATUS_PATH, UPI, VERIFY_SIGNED } from './wire-choices.js';

export type WireBody = Record<string, unknown>;
export type Getter = (body: WireBody) => string;
export type { PhoneFormat } from './wire-choices.js';
/**
 * How a phone field holds its numbers: 'one' number, or a 'list' joined by
 * SMS.recipientSeparator (bulk SMS). The format itself is one per API version (BuildContext).
 */
export type PhoneShape = 'one' | 'list';
/**
 * Which error family the endpoint's validation codes come from (docs/gateways.md, "Platform
 * codes"): airtime → 9001 phone / 9003 amount / 9005 duplicate; bill (also payouts, checkout,
 * B2B, UPI, SMS) → 8002 / 8004 / 8006; other → 1109 for any malformed field.
 */
export type Family = 'airtime' | 'bill' | 'other';
/**
 * money/message: not idempotent; after an unknown outcome look it up, never re-send.
 * query: reads and registrations, safe to re-send.
 */
export type Kind = 'money' | 'message' | 'query';

export interface BuildContext {
  merchantId: string;
  /** GATEWAY_PHONE_FORMAT is optional here so a bare test context still builds (default: national). */
  config: Pick<Config, 'BILLER_KPLC_PREPAID' | 'BILLER_KPLC_POSTPAID'> & Partial<Pick<Config, 'GATEWAY_PHONE_FORMAT'>>;
}

export interface Endpoint<Req> {
  name: string;
  method: 'GET' | 'POST';
  path: (req: Req) => string;
  kind: Kind;
  family: Family;
  /** Wire body without signature, metadata and offline_mode (the caller adds those). */
  build(req: Req, ctx: BuildContext): WireBody;
  /** Dotted body path → shape. Values are parsed with parsePhone and rewritten in the context's format. */
  phones: Record<string, PhoneShape>;
  /** Concatenated in this order and HMAC-SHA256'd; null = unsigned. */
  signature: Getter[] | null;
  /** Whether our idempotency key is sent (wire-choices.ts REFERENCE_PATH): on every money/SMS call. */
  carriesReference: boolean;
}

/** Getter for a dotted path; missing values concatenate as "" (docs/gateways.md, "Signatures"). */
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

/** Bank codes (docs/gateways.md, "Bank codes"). Any other → 1201 before sending. */
export const BANK_CODES: Readonly<Record<string, string>> = {
  '101': 'Absa Bank',
  '102': 'Co-operative Bank',
  '103': 'Equity Bank',
  '104': 'Family Bank',
  '105': 'KCB Bank Kenya',
  '106': 'Standard Chartered',
  '108': 'I & M Bank',
  '112': 'NCBA Bank',
  '113': 'Stanbic Bank',
  '119': 'DTB Kenya',
  '124': 'Bank of Africa',
  '133': 'National Bank',
  '143': 'Gulf African Bank',
  '146': 'Bank of India',
};

/** Kenya Power has no documented code: configuration (BILLER_KPLC_*), defaults in config.ts. */
function billerCode(biller: Biller, ctx: BuildContext): string {
  if (biller === 'KPLC_PREPAID') return ctx.config.BILLER_KPLC_PREPAID;
  if (biller === 'KPLC_POSTPAID') return ctx.config.BILLER_KPLC_POSTPAID;
  return biller;
}

/** UPI institution codes: banks 101+, fintechs 201+, saccos 301+ (docs/gateways.md, "UPI"). */
export function upiChannelOk(code: number): boolean {
  return Number.isInteger(code) && code >= 101 && code <= 399 && code % 100 !== 0;
}

export const BULK_SMS_MAX = SMS.maxRecipients;

const PIN_TELCOS = new Set(['SAFARICOM', 'AIRTEL', 'TELKOM']);

function airtimeBody(r: AirtimeRequest, ctx: BuildContext): WireBody {
  // FAIBA_B (bundles) needs productCode, else 1108 (docs/gateways.md, "Airtime").
  if (r.telco === 'FAIBA_B') required(r.productCode, 'productCode');
  return {
    MerchantID: ctx.merchantId,
    [AIRTIME_PHONE_FIELDS[0]]: r.phone,
    amount: kes(r.amountMinor, 'airtime'),
    telco: r.telco,
    initiatorPhone: r.initiatorPhone,
    ...(r.telco === 'FAIBA_B' ? { productCode: r.productCode } : {}),
  };
}

// Documented (docs/gateways.md, "Airtime"): amount + phone + telco + initiatorPhone + MerchantID.
const AIRTIME_SIG = [v('amount'), v('phone'), v('telco'), v('initiatorPhone'), v('MerchantID')];

export const ENDPOINTS = {
  balance: {
    name: 'balance',
    method: 'POST',
    kind: 'query',
    family: 'other',
    carriesReference: false,
    // v2 path; the v1 samples' /billing/v1/account-balance is a typo (docs/gateways.md, "Typos").
    path: () => '/api-link',
    build: (_r, ctx) => ({ MerchantID: ctx.merchantId }),
    phones: {},
    signature: [v('MerchantID')],
  } satisfies Endpoint<void>,

  transactionStatus: {
    name: 'transactionStatus',
    method: 'POST',
    kind: 'query',
    family: 'other',
    carriesReference: false,
    // Path: a wire choice (the documents show only the mistyped sample path); the signature order
    // MerchantID + transactionRef is documented (docs/gateways.md, "Transaction status").
    path: () => TRANSACTION_STATUS_PATH,
    build: (ref, ctx) => ({ MerchantID: ctx.merchantId, transactionRef: required(ref, 'transactionRef') }),
    phones: {},
    signature: [v('MerchantID'), v('transactionRef')],
  } satisfies Endpoint<string>,

  verify: {
    name: 'verify',
    method: 'GET',
    kind: 'query',
    family: 'other',
    carriesReference: false,
    path: (ref) => `/transactions/${encodeURIComponent(ref)}/verify`, // documented (docs/gateways.md, "Verify")
    build: () => ({}),
    phones: {},
    signature: VERIFY_SIGNED ? [v('MerchantID')] : null, // wire choice: a GET without body is unsigned
  } satisfies Endpoint<string>,

  airtime: {
    name: 'airtime',
    method: 'POST',
    kind: 'money',
    family: 'airtime',
    carriesReference: true,
    path: () => '/billing/v1/airtime/create',
    build: airtimeBody,
    phones: { phone: 'one', initiatorPhone: 'one' },
    signature: AIRTIME_SIG,
  } satisfies Endpoint<AirtimeRequest>,

  pinAirtime: {
    name: 'pinAirtime',
    method: 'POST',
    kind: 'money',
    family: 'airtime',
    carriesReference: true,
    path: () => '/billing/v1/pin-airtime/create',
    build: (r, ctx) => {
      if (!PIN_TELCOS.has(r.telco)) throw kyandaError('9002', 'PIN airtime is SAFARICOM, AIRTEL or TELKOM only');
      return airtimeBody(r, ctx);
    },
    phones: { phone: 'one', initiatorPhone: 'one' },
    signature: AIRTIME_SIG,
  } satisfies Endpoint<AirtimeRequest>,

  bill: {
    name: 'bill',
    method: 'POST',
    kind: 'money',
    family: 'bill',
    carriesReference: true,
    path: () => '/billing/v1/bill/create',
    build: (r: BillRequest, ctx) => ({
      MerchantID: ctx.merchantId,
      account: required(r.account, 'account'),
      amount: kes(r.amountMinor, 'bill'),
      telco: billerCode(r.biller, ctx),
      initiatorPhone: r.initiatorPhone,
    }),
    phones: { initiatorPhone: 'one' },
    // Documented (docs/gateways.md, "Pay bill").
    signature: [v('amount'), v('account'), v('telco'), v('initiatorPhone'), v('MerchantID')],
  } satisfies Endpoint<BillRequest>,

  checkout: {
    name: 'checkout',
    method: 'POST',
    kind: 'money',
    family: 'bill',
    carriesReference: true,
    path: () => '/billing/v1/checkout/create',
    build: (r: CheckoutRequest, ctx) => ({
      MerchantID: ctx.merchantId,
      phoneNumber: r.phone,
      amount: kes(r.amountMinor, 'bill'),
      channel: r.channel,
      metadata: { ...(r.metadata ?? {}) },
    }),
    phones: { phoneNumber: 'one' },
    signature: [v('amount'), v('phoneNumber'), v('channel'), v('MerchantID')], // documented (docs/gateways.md, "Checkout")
  } satisfies Endpoint<CheckoutRequest>,

  mobilePayout: {
    name: 'mobilePayout',
    method: 'POST',
    kind: 'money',
    family: 'bill',
    carriesReference: true,
    path: () => '/billing/v3/mobile-payout/create',
    build: (r: MobilePayoutRequest, ctx) => ({
      MerchantID: ctx.merchantId,
      source: { initiatorName: required(r.initiatorName, 'initiatorName'), initiatorCountry: countryName(required(r.initiatorCountry, 'initiatorCountry')) },
      destination: { destinationPhone: r.phone, amount: kes(r.amountMinor, 'bill'), channel: r.channel },
    }),
    phones: { 'destination.destinationPhone': 'one' },
    // Documented (docs/gateways.md, "Mobile payout"): amount + phone + initiatorName + initiatorCountry + channel + MerchantID.
    signature: [
      v('destination.amount'),
      v('destination.destinationPhone'),
      v('source.initiatorName'),
      v('source.initiatorCountry'),
      v('destination.channel'),
      v('MerchantID'),
    ],
  } satisfies Endpoint<MobilePayoutRequest>,

  bankPayout: {
    name: 'bankPayout',
    method: 'POST',
    kind: 'money',
    family: 'bill',
    carriesReference: true,
    path: () => '/billing/v3/bank-payout/create',
    build: (r: BankPayoutRequest, ctx) => {
      if (!BANK_CODES[r.bankCode]) throw kyandaError('1201', `bank code ${r.bankCode} not in the table`);
      return {
        MerchantID: ctx.merchantId,
        source: { initiatorName: required(r.initiatorName, 'initiatorName'), initiatorCountry: countryName(required(r.initiatorCountry, 'initiatorCountry')) },
        destination: {
          name: required(r.name, 'name'),
          accountNumber: required(r.accountNumber, 'accountNumber'),
          phoneNumber: r.phone,
          amount: kes(r.amountMinor, 'bill'),
          bankCode: r.bankCode,
        },
      };
    },
    phones: { 'destination.phoneNumber': 'one' },
    // Documented (docs/gateways.md, "Bank payout"); its sample string is the mobile one (typo), the order stands.
    signature: [
      v('destination.amount'),
      v('destination.accountNumber'),
      v('destination.phoneNumber'),
      v('destination.bankCode'),
      v('source.initiatorName'),
      v('source.initiatorCountry'),
      v('MerchantID'),
    ],
  } satisfies Endpoint<BankPayoutRequest>,

  b2b: {
    name: 'b2b',
    method: 'POST',
    kind: 'money',
    family: 'bill',
    carriesReference: true,
    path: () => '/billing/v3/b2b/create',
    build: (r: B2BRequest, ctx) => ({
      MerchantID: ctx.merchantId,
      channel: r.channel,
      resultUrl: required(r.resultUrl, 'resultUrl'),
      // identifier: the account at the receiving paybill, sent as given (wire-choices.ts).
      destination: {
        shortCode: required(r.shortCode, 'shortCode'),
        identifier: required(r.identifier, 'identifier').trim(),
        amount: kes(r.amountMinor, 'bill'),
        remarks: r.remarks,
      },
    }),
    phones: {},
    // Documented (docs/gateways.md, "B2B"): MerchantID + channel + shortCode + identifier + amount.
    signature: [v('MerchantID'), v('channel'), v('destination.shortCode'), v('destination.identifier'), v('destination.amount')],
  } satisfies Endpoint<B2BRequest>,

  upiTransfer: {
    name: 'upiTransfer',
    method: 'POST',
    kind: 'money',
    family: 'bill',
    carriesReference: true,
    path: () => UPI.path, // documented (docs/gateways.md, "UPI")
    build: (r: UpiRequest, ctx) => {
      for (const c of [r.senderChannel, r.recipientChannel]) {
        // 8003 "invalid channel", as the sandbox answers (the documents give UPI no code of its own).
        if (!upiChannelOk(c)) throw kyandaError('8003', `UPI channel ${c} outside 101+/201+/301+`);
      }
      // Body shape: a wire choice (docs/gateways.md, "Wire choices"); the parts are documented.
      return {
        MerchantID: ctx.merchantId,
        sender: {
          account: required(r.senderAccount, 'sender.account'),
          channel: String(r.senderChannel),
          currency: required(r.senderCurrency, 'sender.currency'),
        },
        recipient: {
          account: required(r.recipientAccount, 'recipient.account'),
          channel: String(r.recipientChannel),
          currency: required(r.recipientCurrency, 'recipient.currency'),
        },
        amount: kes(r.amountMinor, 'bill'),
        ...(r.narration ? { narration: r.narration } : {}),
      };
    },
    phones: {},
    signature: UPI.signature.map(v), // wire choice: no document gives the order
  } satisfies Endpoint<UpiRequest>,

  sms: {
    // family 'bill': the documents give SMS no codes; we read 8002/8006 like the other non-airtime calls.
    name: 'sms',
    method: 'POST',
    kind: 'message',
    family: 'bill',
    carriesReference: true,
    path: () => SMS.path,
    // Free text goes in SMS.textField (a wire choice); without it the gateway sends the OTP.
    build: (r: SmsRequest, ctx) => {
      if (!r.otp && !r.message) throw kyandaError('1108', 'otp or message');
      return {
        MerchantID: ctx.merchantId,
        phone: r.phone,
        ...(r.otp ? { otp: r.otp } : {}),
        ...(r.message ? { [SMS.textField]: r.message } : {}),
      };
    },
    phones: { phone: 'one' },
    signature: SMS.signature.map(v), // documented (docs/gateways.md, "SMS")
  } satisfies Endpoint<SmsRequest>,

  bulkSms: {
    // The documented SMS endpoint serves bulk too: up to 1,000 numbers in one `phone` string
    // (docs/gateways.md, "SMS" and "Wire choices"), same signature as a single SMS.
    name: 'bulkSms',
    method: 'POST',
    kind: 'message',
    family: 'bill',
    carriesReference: true,
    path: () => SMS.path,
    build: (r: BulkSmsRequest, ctx) => {
      if (r.phones.length === 0) throw kyandaError('1108', 'no recipients');
      if (r.phones.length > BULK_SMS_MAX) throw kyandaError('1109', `bulk SMS takes at most ${BULK_SMS_MAX} numbers per request`);
      const bad = r.phones.findIndex((p) => typeof p !== 'string' || p.includes(SMS.recipientSeparator));
      if (bad >= 0) throw kyandaError('8002', `phones[${bad}]: not one phone number`);
      return { MerchantID: ctx.merchantId, phone: r.phones.join(SMS.recipientSeparator), [SMS.textField]: required(r.message, 'message') };
    },
    phones: { phone: 'list' },
    signature: SMS.signature.map(v),
  } satisfies Endpoint<BulkSmsRequest>,

  registerCallback: {
    name: 'registerCallback',
    method: 'POST',
    kind: 'query',
    family: 'other',
    carriesReference: false,
    path: () => '/billing/v1/callback-url/create',
    build: (url: string, ctx) => {
      if (!/^https?:\/\/\S+$/i.test(url)) throw kyandaError('6002', 'callback URL must be http(s)');
      return { MerchantID: ctx.merchantId, callbackURL: url };
    },
    phones: {},
    signature: [v('MerchantID')], // documented (docs/gateways.md, "Callback URL"): the URL itself is not signed
  } satisfies Endpoint<string>,

  telcoCheck: {
    name: 'telcoCheck',
    method: 'POST',
    kind: 'query',
    family: 'other',
    carriesReference: false,
    path: () => '/api-telco-check', // documented (docs/gateways.md, "Telco check")
    build: (prefix: string, ctx) => ({ MerchantID: ctx.merchantId, prefix }),
    phones: {},
    signature: TELCO_CHECK_SIGNATURE.map(v), // wire choice: no document gives the order
  } satisfies Endpoint<string>,
};

/** @public The client's endpoint names (part of its public API). */
export type EndpointName = keyof typeof ENDPOINTS;
