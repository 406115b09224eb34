// The sandbox's own table of the Kyanda-family API v2 (docs/gateways.md, "Kyanda-family API v2"):
// one entry per endpoint with its path, required fields, signature order and field rules. What
// the documents state is written here independently of src/gateway/kyanda, so the two
// cross-check each other; what they leave open comes from the one module both read
// (../kyanda/wire-choices.ts), so the sandbox expects exactly what the client was told to send.
// Where the documents disagree with themselves, every documented form is accepted.
import { SandboxError } from './codes.js';
import { at, checkAmount, checkOneOf, checkPhone, e164, KENYAN_MOBILE, present, text, type Body } from './wire.js';
import {
  AIRTIME_PHONE_FIELDS,
  looksLikeCountryName,
  SMS,
  TELCO_CHECK_SIGNATURE,
  TRANSACTION_STATUS_PATH,
  UPI,
  VERIFY_SIGNED,
} from '../../gateway/kyanda/wire-choices.js';

export type Category = 'Airtime' | 'PinAirtime' | 'BillPayment' | 'Checkout' | 'MobilePayout' | 'BankPayout' | 'B2B' | 'UPI' | 'SMS';

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
      /** B2B answers to its own resultUrl rather than the registered callback (sandbox assumption). */
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
  /**
   * Other names the documents give a field (airtime `phone` is `phoneNumber` in the v1 table):
   * used for `required`, the signature and validation when the field itself is absent.
   */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /**
   * Duplicate-transmission code for money/SMS endpoints; null = queries (never duplicates). Also
   * marks what `offline_mode` can queue: a money or SMS request, never a lookup.
   */
  duplicateCode: '9005' | '8006' | null;
  /** Airtime family answers 900x, every other family 800x. */
  family: 'airtime' | 'bill';
  /** Money/SMS endpoints: the IPN category (also what a QUEUED record shows before its checks). */
  category?: Category;
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
export const BULK_MAX_RECIPIENTS = SMS.maxRecipients;

// Written from the gateway's bank-code table on purpose rather than imported from the client
// (src/gateway/kyanda/endpoints.ts has the same list): the sandbox is the client's independent
// check, so a misreading in one shows up as a refusal in the other instead of agreeing with itself.
export const BANK_CODES: Record<string, string> = {
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

/** Faiba bundle prices (docs/gateways.md, "Airtime"); combo codes have no published price: any amount ≥ 1. */
export const FAIBA_BUNDLES: Record<string, number | null> = {
  DAILY_DATA_100MB: 10,
  DAILY_DATA_225MB: 20,
  DailyData1GB: 50,
  WeeklyData8GB: 300,
  MONTHLY_DATA_30GB: 1000,
  MONTHLY_DATA_65GB: 2000,
  '60_DAY_DATA_100GB': 3000,
  '90_DAY_DATA_225GB': 6000,
  CHUI_DATA_5GB: null,
  KIFARU_DATA_7GB: null,
  NDOVU_DATA_10GB: null,
  SIMBA_DATA_20GB: null,
};

/** The path a field is actually sent under: itself, else the first alias present. */
export function fieldPath(spec: Pick<EndpointSpec, 'aliases'>, body: Body, path: string): string {
  if (present(body, path)) return path;
  return spec.aliases?.[path]?.find((a) => present(body, a)) ?? path;
}

/** The exact string the sandbox signs for this body (docs/gateways.md, "Signatures"). */
export function signatureBase(spec: Pick<EndpointSpec, 'aliases' | 'signature'>, body: Body): string {
  return (spec.signature ?? []).map((p) => text(body, fieldPath(spec, body, p)) ?? '').join('');
}

/** 07… form of an accepted phone, to compare with the magic sandbox numbers. */
function national(phone: string): string {
  return `0${e164(phone).slice(4)}`;
}

const [AIRTIME_PHONE, ...AIRTIME_PHONE_ALIASES] = AIRTIME_PHONE_FIELDS;
const AIRTIME_ALIASES = { [AIRTIME_PHONE]: AIRTIME_PHONE_ALIASES };

function airtimeIntent(body: Body, telcos: readonly string[], category: Category): Intent {
  const telco = checkOneOf(body, 'telco', telcos, '9002');
  const phone = checkPhone(body, fieldPath({ aliases: AIRTIME_ALIASES }, body, AIRTIME_PHONE), '9001');
  const initiator = checkPhone(body, 'initiatorPhone', '9001');
  const amount = checkAmount(body, 'amount', '9003');
  if (amount > AIRTIME_MAX_KES) throw new SandboxError('9004', `max ${AIRTIME_MAX_KES} KES`);
  if (telco === 'FAIBA_B') {
    // "productCode is required when telco is FAIBA_B. Omitting it returns error 1108" (docs/gateways.md, "Airtime").
    if (!present(body, 'productCode')) throw new SandboxError('1108', 'productCode');
    const code = text(body, 'productCode') ?? '';
    if (!Object.hasOwn(FAIBA_BUNDLES, code)) throw new SandboxError('1109', 'unknown productCode');
    const price = FAIBA_BUNDLES[code];
    if (price != null && price !== amount) throw new SandboxError('8004', `${code} costs ${price} KES`);
  } else if (amount < AIRTIME_MIN_KES) {
    // Sandbox assumption: a 5 KES minimum, answered as a limit (9004), not a format error (9003).
    throw new SandboxError('9004', `min ${AIRTIME_MIN_KES} KES`);
  }
  return {
    kind: 'txn',
    category,
    mode: 'sync',
    amount,
    usesFloat: true,
    source: initiator,
    destination: phone,
    ...(category === 'PinAirtime' ? { extra: 'voucher' as const } : {}),
  };
}

/** Payout initiators: a country name as the samples show ("Kenya", "Germany"), not an ISO code. */
function checkCountry(body: Body, path: string): void {
  if (!looksLikeCountryName(text(body, path) ?? '')) throw new SandboxError('1109', `${path} must be a country name such as Kenya`);
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
    // v2 path; the v1 samples all say /billing/v1/account-balance, a typo (docs/gateways.md, "Typos").
    name: 'balance',
    method: 'POST',
    path: '/api-link',
    required: ['MerchantID'],
    signature: ['MerchantID'],
    duplicateCode: null,
    family: 'bill',
    validate: () => ({ kind: 'balance' }),
  },
  {
    // Path: a wire choice; the order MerchantID + transactionRef is documented.
    name: 'transaction-status',
    method: 'POST',
    path: TRANSACTION_STATUS_PATH,
    required: ['MerchantID', 'transactionRef'],
    signature: ['MerchantID', 'transactionRef'],
    duplicateCode: null,
    family: 'bill',
    validate: (b) => ({ kind: 'status', ref: text(b, 'transactionRef') ?? '' }),
  },
  {
    category: 'Airtime',
    name: 'airtime',
    method: 'POST',
    path: '/billing/v1/airtime/create',
    required: ['MerchantID', AIRTIME_PHONE, 'amount', 'telco', 'initiatorPhone'],
    aliases: AIRTIME_ALIASES,
    signature: ['amount', AIRTIME_PHONE, 'telco', 'initiatorPhone', 'MerchantID'],
    duplicateCode: '9005',
    family: 'airtime',
    validate: (b) => airtimeIntent(b, AIRTIME_TELCOS, 'Airtime'),
  },
  {
    category: 'PinAirtime',
    name: 'pin-airtime',
    method: 'POST',
    path: '/billing/v1/pin-airtime/create',
    required: ['MerchantID', AIRTIME_PHONE, 'amount', 'telco', 'initiatorPhone'],
    aliases: AIRTIME_ALIASES,
    signature: ['amount', AIRTIME_PHONE, 'telco', 'initiatorPhone', 'MerchantID'],
    duplicateCode: '9005',
    family: 'airtime',
    validate: (b) => airtimeIntent(b, PIN_TELCOS, 'PinAirtime'),
  },
  {
    category: 'BillPayment',
    name: 'bill',
    method: 'POST',
    path: '/billing/v1/bill/create',
    required: ['MerchantID', 'account', 'amount', 'telco', 'initiatorPhone'],
    signature: ['amount', 'account', 'telco', 'initiatorPhone', 'MerchantID'],
    duplicateCode: '8006',
    family: 'bill',
    validate: (b, env) => {
      const biller = checkOneOf(b, 'telco', [...TV_WATER_BILLERS, env.kplcPrepaid, env.kplcPostpaid], '8003');
      const account = text(b, 'account') ?? '';
      // Sandbox assumption: the documents only say "Account Number. Eg 0123456789".
      if (!/^[A-Za-z0-9-]{4,20}$/.test(account)) throw new SandboxError('8001', 'account must be 4-20 letters/digits');
      const initiator = checkPhone(b, 'initiatorPhone', '8002');
      const amount = checkAmount(b, 'amount', '8004');
      if (amount > BILL_MAX_KES) throw new SandboxError('8005', `max ${BILL_MAX_KES} KES`);
      return {
        kind: 'txn',
        category: 'BillPayment',
        mode: 'sync',
        amount,
        usesFloat: true,
        source: initiator,
        destination: account,
        ...(biller === env.kplcPrepaid ? { extra: 'token' as const } : {}),
      };
    },
  },
  {
    category: 'Checkout',
    name: 'checkout',
    method: 'POST',
    path: '/billing/v1/checkout/create',
    required: ['MerchantID', 'phoneNumber', 'amount', 'channel'],
    signature: ['amount', 'phoneNumber', 'channel', 'MerchantID'],
    duplicateCode: '8006',
    family: 'bill',
    validate: (b) => {
      checkOneOf(b, 'channel', WALLET_CHANNELS, '8003');
      const phone = checkPhone(b, 'phoneNumber', '8002');
      const amount = payoutAmount(b, 'amount');
      const md = at(b, 'metadata');
      if (md !== undefined && (md === null || typeof md !== 'object' || Array.isArray(md))) {
        throw new SandboxError('1109', 'metadata must be an object');
      }
      return {
        kind: 'txn',
        category: 'Checkout',
        mode: 'checkout',
        amount,
        usesFloat: false,
        source: phone,
        destination: 'PaymentWallet',
        payerPhone: national(phone),
      };
    },
  },
  {
    category: 'MobilePayout',
    name: 'mobile-payout',
    method: 'POST',
    path: '/billing/v3/mobile-payout/create',
    required: ['MerchantID', 'source.initiatorName', 'source.initiatorCountry', 'destination.destinationPhone', 'destination.amount', 'destination.channel'],
    signature: ['destination.amount', 'destination.destinationPhone', 'source.initiatorName', 'source.initiatorCountry', 'destination.channel', 'MerchantID'],
    duplicateCode: '8006',
    family: 'bill',
    validate: (b) => {
      checkOneOf(b, 'destination.channel', WALLET_CHANNELS, '8003');
      const phone = checkPhone(b, 'destination.destinationPhone', '8002');
      checkCountry(b, 'source.initiatorCountry');
      const amount = payoutAmount(b, 'destination.amount');
      return { kind: 'txn', category: 'MobilePayout', mode: 'async', amount, usesFloat: true, source: 'PaymentWallet', destination: phone };
    },
  },
  {
    category: 'BankPayout',
    name: 'bank-payout',
    method: 'POST',
    path: '/billing/v3/bank-payout/create',
    required: [
      'MerchantID',
      'source.initiatorName',
      'source.initiatorCountry',
      'destination.name',
      'destination.accountNumber',
      'destination.phoneNumber',
      'destination.amount',
      'destination.bankCode',
    ],
    signature: [
      'destination.amount',
      'destination.accountNumber',
      'destination.phoneNumber',
      'destination.bankCode',
      'source.initiatorName',
      'source.initiatorCountry',
      'MerchantID',
    ],
    duplicateCode: '8006',
    family: 'bill',
    validate: (b) => {
      const bank = text(b, 'destination.bankCode') ?? '';
      if (!Object.hasOwn(BANK_CODES, bank)) throw new SandboxError('1201', 'unknown bankCode');
      const account = text(b, 'destination.accountNumber') ?? '';
      // Sandbox assumption: Kenyan bank account numbers are digits, 5 to 20 of them.
      if (!/^\d{5,20}$/.test(account)) throw new SandboxError('8001', 'accountNumber must be 5-20 digits');
      checkPhone(b, 'destination.phoneNumber', '8002');
      checkCountry(b, 'source.initiatorCountry');
      const amount = payoutAmount(b, 'destination.amount');
      return { kind: 'txn', category: 'BankPayout', mode: 'async', amount, usesFloat: true, source: 'PaymentWallet', destination: account };
    },
  },
  {
    category: 'B2B',
    name: 'b2b',
    method: 'POST',
    path: '/billing/v3/b2b/create',
    required: ['MerchantID', 'channel', 'resultUrl', 'destination.shortCode', 'destination.identifier', 'destination.amount'],
    signature: ['MerchantID', 'channel', 'destination.shortCode', 'destination.identifier', 'destination.amount'],
    duplicateCode: '8006',
    family: 'bill',
    validate: (b) => {
      checkOneOf(b, 'channel', B2B_CHANNELS, '8003');
      const url = text(b, 'resultUrl');
      if (!httpUrl(url)) throw new SandboxError('6002', 'resultUrl must be http(s)');
      const shortCode = text(b, 'destination.shortCode') ?? '';
      // Sandbox assumption: paybill and till numbers are 5 to 7 digits.
      if (!/^\d{5,7}$/.test(shortCode)) throw new SandboxError('8001', 'shortCode must be 5-7 digits');
      // identifier is the account at that paybill, any text (wire-choices.ts B2B_IDENTIFIER_IS_PHONE).
      if ((text(b, 'destination.identifier') ?? '').length > 64) throw new SandboxError('1109', 'identifier longer than 64 characters');
      const amount = payoutAmount(b, 'destination.amount');
      return { kind: 'txn', category: 'B2B', mode: 'async', amount, usesFloat: true, source: 'PaymentWallet', destination: shortCode, ipnUrl: url! };
    },
  },
  {
    // Body and signature order: wire choices (../kyanda/wire-choices.ts UPI).
    category: 'UPI',
    name: 'upi',
    method: 'POST',
    path: UPI.path,
    required: ['MerchantID', 'sender.account', 'sender.channel', 'sender.currency', 'recipient.account', 'recipient.channel', 'recipient.currency', 'amount'],
    signature: UPI.signature,
    duplicateCode: '8006',
    family: 'bill',
    validate: (b) => {
      for (const side of ['sender', 'recipient']) {
        const ch = text(b, `${side}.channel`) ?? '';
        // Bank 101+, Fintech 201+, Sacco 301+; sandbox assumption: each family stops at x99.
        if (!/^[123]\d\d$/.test(ch) || Number(ch) % 100 === 0) throw new SandboxError('8003', `${side}.channel must be 101-399`);
        if ((text(b, `${side}.currency`) ?? '') !== 'KES') throw new SandboxError('1109', `${side}.currency must be KES`);
        if (!/^[A-Za-z0-9-]{4,30}$/.test(text(b, `${side}.account`) ?? '')) throw new SandboxError('8001', `${side}.account`);
      }
      const amount = payoutAmount(b, 'amount');
      return {
        kind: 'txn',
        category: 'UPI',
        mode: 'async',
        amount,
        usesFloat: true,
        source: text(b, 'sender.account') ?? '',
        destination: text(b, 'recipient.account') ?? '',
      };
    },
  },
  {
    // The documented endpoint for SMS, OTPs and bulk alike: `phone` holds one number or up to
    // 1,000 joined by SMS.recipientSeparator; free text in SMS.textField (wire choices).
    category: 'SMS',
    name: 'sms',
    method: 'POST',
    path: SMS.path,
    required: ['MerchantID', 'phone'],
    signature: SMS.signature,
    duplicateCode: '8006',
    family: 'bill',
    validate: (b) => {
      const list = (text(b, 'phone') ?? '').split(SMS.recipientSeparator);
      if (list.length > BULK_MAX_RECIPIENTS) throw new SandboxError('1109', `at most ${BULK_MAX_RECIPIENTS} numbers per request`);
      const recipients = list.map((p, i) => {
        if (!KENYAN_MOBILE.test(p)) throw new SandboxError('8002', list.length > 1 ? `phone[${i}]` : 'phone');
        return e164(p);
      });
      const otp = text(b, 'otp');
      const message = text(b, SMS.textField);
      if (!present(b, 'otp') && !present(b, SMS.textField)) throw new SandboxError('1108', `otp or ${SMS.textField}`);
      if (otp !== undefined && otp !== '' && !/^\d{4,8}$/.test(otp)) throw new SandboxError('1109', 'otp must be 4-8 digits');
      if (message !== undefined && message.length > 1600) throw new SandboxError('1109', `${SMS.textField} longer than 1600 characters`);
      const textToSend = message && message !== '' ? message : `Your verification code is ${otp}`;
      return {
        kind: 'txn',
        category: 'SMS',
        mode: 'sync',
        amount: 0,
        usesFloat: false,
        source: 'SMS',
        destination: recipients.length === 1 ? list[0]! : `${recipients.length} recipients`,
        sms: { recipients, message: textToSend },
        // Without this every text to one phone within the window would be a "duplicate".
        dupSalt: textToSend,
      };
    },
  },
  {
    // Signature of MerchantID only, as documented.
    name: 'callback-url',
    method: 'POST',
    path: '/billing/v1/callback-url/create',
    required: ['MerchantID', 'callbackURL'],
    signature: ['MerchantID'],
    duplicateCode: null,
    family: 'bill',
    validate: (b) => {
      const url = text(b, 'callbackURL');
      if (!httpUrl(url)) throw new SandboxError('6002', 'callbackURL must be http(s)');
      // The documented URL requirements (no exec/cmd/sql, no public tunnels), taken to be what
      // 6001 "Cannot register URL" means (docs/gateways.md, "Callback URL").
      const u = new URL(url!);
      if (/exec|cmd|sql/i.test(u.pathname + u.search) || /(^|\.)(ngrok(-free)?\.(io|app|dev)|requestbin\.(com|net))$/i.test(u.hostname)) {
        throw new SandboxError('6001', 'URL not allowed');
      }
      return { kind: 'callback', url: url! };
    },
  },
  {
    // Signature order: a wire choice (../kyanda/wire-choices.ts TELCO_CHECK_SIGNATURE).
    name: 'telco-check',
    method: 'POST',
    path: '/api-telco-check',
    required: ['MerchantID', 'prefix'],
    signature: TELCO_CHECK_SIGNATURE,
    duplicateCode: null,
    family: 'bill',
    validate: (b) => {
      const prefix = text(b, 'prefix') ?? '';
      if (!/^\d{3}$/.test(prefix)) throw new SandboxError('1109', 'prefix must be 3 digits');
      return { kind: 'telco', prefix };
    },
  },
  {
    // A GET with the apiKey header only (wire choice VERIFY_SIGNED).
    name: 'verify',
    method: 'GET',
    path: '/transactions/:ref/verify',
    required: [],
    signature: VERIFY_SIGNED ? ['MerchantID'] : null,
    duplicateCode: null,
    family: 'bill',
    validate: () => ({ kind: 'status', ref: '' }),
  },
];

export function endpoints(): readonly EndpointSpec[] {
  return ENDPOINTS;
}

export function endpointNamed(name: string): EndpointSpec | undefined {
  return ENDPOINTS.find((e) => e.name === name);
}
