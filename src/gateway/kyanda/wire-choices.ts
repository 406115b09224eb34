// Every Kyanda-family wire detail that the gateway's documents leave open or contradict, decided
// once. The client (endpoints.ts, wire.ts) and the sandbox (../sandbox/) both read this module,
// so a change here changes what we send and what our sandbox expects together.
// docs/gateways.md, "Wire choices", lists each one with its reason; keep the two in step.
// Only the phone format can be overridden by an operator (GATEWAY_PHONE_FORMAT in config.ts):
// it is the one choice where the documents disagree with each other about something we must send.

/** 'national' = 07…/01… (10 digits), 'e164' = +254…. */
export type PhoneFormat = 'national' | 'e164';
export const PHONE_FORMATS: readonly PhoneFormat[] = ['national', 'e164'];

/**
 * One format for every phone field of every request (docs/gateways.md, "Phone numbers"): the
 * field tables of both API versions say "10 digits starting with 07" and the only worked
 * signature string that contains phones uses 07… for both of them; the +254 forms appear only
 * in sample bodies whose signatures are elided.
 */
export const DEFAULT_PHONE_FORMAT: PhoneFormat = 'national';

/**
 * Airtime and PIN airtime name the recipient `phone` in the signature order and the v2 sample,
 * `phoneNumber` in the v1 field table and sample: we send the first, the sandbox takes either.
 */
export const AIRTIME_PHONE_FIELDS = ['phone', 'phoneNumber'] as const;

/**
 * B2B `identifier` is the account at the receiving paybill (the one sample happens to hold a
 * phone): sent exactly as given, never rewritten as a phone number.
 */
/** @public documents the choice (docs/gateways.md, "Wire choices") even where no code branches on it. */
export const B2B_IDENTIFIER_IS_PHONE = false;

/** Our idempotency key rides here on every money and SMS call; unsigned (not in any documented order). */
export const REFERENCE_PATH = ['metadata', 'reference'] as const;

/** The documents show this call only under a mistyped sample path. */
export const TRANSACTION_STATUS_PATH = '/billing/v1/transaction-status';

/** GET /transactions/{ref}/verify carries no body, so nothing is signed: apiKey header only. */
export const VERIFY_SIGNED = false;

/** Telco check: signed like the other lookups, MerchantID first, then the request's own field. */
export const TELCO_CHECK_SIGNATURE = ['MerchantID', 'prefix'] as const;

/** SMS: the documented endpoint and signature serve single texts, OTPs and bulk alike. */
export const SMS = {
  path: '/billing/v1/sms/send',
  /** Free text (no document names a field for it; OTP-only requests send none). */
  textField: 'message',
  /** Several recipients: one `phone` string, numbers joined by this, no spaces. */
  recipientSeparator: ',',
  /** "Max 1,000 numbers per request" (bulk SMS release note). */
  maxRecipients: 1000,
  /** Documented: phone + otp + MerchantID; a bulk or free-text request has no otp (""). */
  signature: ['phone', 'otp', 'MerchantID'] as const,
} as const;

/**
 * UPI transfer: the release note names the parts (sender and recipient account, channel code and
 * currency, amount) but neither the body nor the signature order.
 */
export const UPI = {
  path: '/v1/transaction/transact-link',
  signature: ['MerchantID', 'sender.account', 'sender.channel', 'recipient.account', 'recipient.channel', 'amount'] as const,
} as const;

/** initiatorCountry: an English country name, as every sample shows ("Kenya", "Germany"). */
/** @public documents the choice, as above. */
export const INITIATOR_COUNTRY_STYLE = 'name' as const;

/**
 * "KE" → "Kenya". A two-letter ISO 3166 code (what the rest of our code passes around) becomes
 * its English name; anything else is taken to be a name already and sent as given.
 */
export function countryName(value: string): string {
  const v = value.trim();
  if (!/^[A-Za-z]{2}$/.test(v)) return v;
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' }).of(v.toUpperCase());
    return name ?? v;
  } catch {
    return v;
  }
}

/** True for what the samples show: a name of at least three characters, not a bare ISO code. */
export function looksLikeCountryName(value: string): boolean {
  return /^[A-Za-z][A-Za-z .,'()-]{2,59}$/.test(value.trim());
}
