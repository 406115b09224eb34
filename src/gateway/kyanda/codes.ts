// Every platform code in the Kyanda-family documents (docs/gateways.md, "Platform codes") → a
// typed GatewayError with a stable code, whether retrying the same request can help, and a short
// handset-safe message (≤ 60 chars, GSM-7, English and Swahili). The gateway's own text never
// reaches a phone.
import { GatewayError, type UserMessage } from '../types.js';

interface CodeInfo {
  meaning: string;
  retryable: boolean;
  user: UserMessage;
}

const TRY_LATER: UserMessage = { en: 'Service busy. Please try again later.', sw: 'Huduma ina shughuli. Jaribu tena baadaye.' };
const FAILED: UserMessage = { en: 'Request failed. Please try again later.', sw: 'Ombi halikufaulu. Jaribu tena baadaye.' };

export const KYANDA_CODES: Record<string, CodeInfo> = {
  '0000': { meaning: 'Request processed successfully', retryable: false, user: { en: 'Done.', sw: 'Imekamilika.' } },
  '1100': {
    meaning: 'Transaction created, pending processing',
    retryable: false,
    user: { en: 'Your request is being processed.', sw: 'Ombi lako linashughulikiwa.' },
  },
  '1101': { meaning: 'Invalid Merchant ID', retryable: false, user: FAILED },
  '1102': { meaning: 'Authentication failed', retryable: false, user: FAILED },
  '1103': { meaning: 'Forbidden access', retryable: false, user: FAILED },
  '1104': { meaning: 'Signature mismatch', retryable: false, user: FAILED },
  '1105': { meaning: 'Payment services unavailable', retryable: true, user: TRY_LATER },
  '1106': {
    meaning: 'Airtime service unavailable',
    retryable: true,
    user: { en: 'Airtime service busy. Try again later.', sw: 'Huduma ya salio ina shughuli. Jaribu baadaye.' },
  },
  '1107': {
    meaning: 'Insufficient float balance',
    retryable: false,
    user: { en: 'Service unavailable now. Try later.', sw: 'Huduma haipatikani sasa. Jaribu baadaye.' },
  },
  '1108': { meaning: 'Missing parameter', retryable: false, user: { en: 'Some details are missing.', sw: 'Baadhi ya taarifa hazipo.' } },
  '1109': { meaning: 'Parameter validation error', retryable: false, user: { en: 'Some details are invalid.', sw: 'Baadhi ya taarifa si sahihi.' } },
  '1201': { meaning: 'Invalid bank code', retryable: false, user: { en: 'Unknown bank. Check and try again.', sw: 'Benki haijulikani. Hakiki ujaribu tena.' } },
  // Retryable for reads only: on a money or SMS call it is an unknown outcome (UNKNOWN_OUTCOME_CODES).
  '5000': { meaning: 'Unexpected error', retryable: true, user: FAILED },
  '6001': { meaning: 'Cannot register URL', retryable: false, user: FAILED },
  '6002': { meaning: 'Invalid URL format', retryable: false, user: FAILED },
  '7001': { meaning: 'Transaction not found', retryable: false, user: { en: 'Transaction not found.', sw: 'Muamala haukupatikana.' } },
  '8001': { meaning: 'Invalid account number format', retryable: false, user: { en: 'Invalid account number.', sw: 'Nambari ya akaunti si sahihi.' } },
  '8002': { meaning: 'Invalid phone number format', retryable: false, user: { en: 'Invalid phone number.', sw: 'Nambari ya simu si sahihi.' } },
  '8003': { meaning: 'Invalid telco', retryable: false, user: { en: 'Service provider not supported.', sw: 'Mtoa huduma hatumiki.' } },
  '8004': { meaning: 'Invalid amount format', retryable: false, user: { en: 'Invalid amount.', sw: 'Kiasi si sahihi.' } },
  '8005': { meaning: 'Amount limit exceeded', retryable: false, user: { en: 'Amount is over the limit.', sw: 'Kiasi kimezidi kikomo.' } },
  '8006': {
    meaning: 'Duplicate transmission',
    retryable: false,
    user: { en: 'Duplicate request. Check your messages.', sw: 'Ombi limerudiwa. Angalia ujumbe wako.' },
  },
  '9001': { meaning: 'Invalid phone number format', retryable: false, user: { en: 'Invalid phone number.', sw: 'Nambari ya simu si sahihi.' } },
  '9002': { meaning: 'Invalid transaction channel', retryable: false, user: { en: 'Network not supported.', sw: 'Mtandao hautumiki.' } },
  '9003': { meaning: 'Invalid amount format', retryable: false, user: { en: 'Invalid amount.', sw: 'Kiasi si sahihi.' } },
  '9004': { meaning: 'Amount limit exceeded', retryable: false, user: { en: 'Amount is over the limit.', sw: 'Kiasi kimezidi kikomo.' } },
  '9005': {
    meaning: 'Duplicate transmission',
    retryable: false,
    user: { en: 'Duplicate request. Check your messages.', sw: 'Ombi limerudiwa. Angalia ujumbe wako.' },
  },
};

// Our own codes for failures the platform has no code for (stable, not numeric so they never
// collide with a future platform code).
export const LOCAL_CODES: Record<string, CodeInfo> = {
  TIMEOUT: {
    meaning: 'No answer from the gateway in time',
    retryable: false,
    user: { en: 'We are processing your request. You will get an SMS.', sw: 'Tunashughulikia ombi lako. Utapata SMS.' },
  },
  UNCONFIRMED: {
    meaning: 'Gateway answer without a platform code; outcome unknown',
    retryable: false,
    user: { en: 'We are processing your request. You will get an SMS.', sw: 'Tunashughulikia ombi lako. Utapata SMS.' },
  },
  NETWORK: { meaning: 'Gateway unreachable', retryable: true, user: TRY_LATER },
  RATE_LIMITED: { meaning: 'Too many requests to the gateway', retryable: true, user: TRY_LATER },
  BAD_RESPONSE: { meaning: 'Gateway answered something we cannot read', retryable: false, user: FAILED },
  UNKNOWN_CODE: { meaning: 'Platform code not in the docs', retryable: false, user: FAILED },
};

export const CODE_INFO: Readonly<Record<string, CodeInfo>> = { ...KYANDA_CODES, ...LOCAL_CODES };

/** Codes that mean "this exact request was already received": look it up, do not call it failed. */
export const DUPLICATE_CODES = new Set(['8006', '9005']);

/**
 * Codes that leave a money or SMS call's outcome unknown. 5000 says "contact support with the
 * transaction ref" (docs/gateways.md, "Platform codes"): the gateway may well have acted, so
 * the call is looked up, never sent again with the same body. A read answered 5000 may be retried.
 */
export const UNKNOWN_OUTCOME_CODES = new Set(['5000']);

/**
 * The typed error for a code. `detail` is the gateway's own text, kept in Error.message for
 * logs and never in userMessage.
 */
export function kyandaError(code: string, detail?: string, httpStatus?: number): GatewayError {
  const info = CODE_INFO[code];
  if (!info) {
    const u = LOCAL_CODES.UNKNOWN_CODE!;
    return new GatewayError(code, `kyanda ${code}: ${detail ?? 'unknown platform code'}`, u.retryable, u.user, httpStatus);
  }
  return new GatewayError(code, `kyanda ${code}: ${detail ?? info.meaning}`, info.retryable, info.user, httpStatus);
}
