// The Gateway interface in our own terms. Adapters (kyanda/, pag/) translate to the wire;
// nothing above this layer knows field names, signature orders or phone formats of a gateway.
//
// Money is an integer number of the smallest unit (KES cents) everywhere in our code
// (floating point never touches money); adapters format it for the wire ("1500" for Kyanda, "100.00" for PAG).
// Phones are E.164 strings (+2547…); adapters convert per field.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Redis } from '../redis.js';

export type GatewayName = 'kyanda' | 'pag';

/** The parts of the application a gateway client uses (not the whole application context). */
export interface GatewayContext {
  config: Config;
  redis: Redis;
  logger: Logger;
  /** Prefixes a Redis key with REDIS_PREFIX. */
  key(...parts: string[]): string;
}
export type MobileChannel = 'MPESA' | 'AIRTEL' | 'EQUITEL';
export type AirtimeTelco = 'SAFARICOM' | 'AIRTEL' | 'TELKOM' | 'EQUITEL' | 'FAIBA' | 'FAIBA_B';
export type Biller = 'KPLC_PREPAID' | 'KPLC_POSTPAID' | 'DSTV' | 'GOTV' | 'ZUKU' | 'STARTIMES' | 'NAIROBI_WTR';

/** Messages safe to show on a handset, in both languages. */
export interface UserMessage {
  en: string;
  sw: string;
}

/** A gateway failure with a stable code (the gateway's own where it has one, e.g. "1104"). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: string,
    message: string,
    /**
     * Whether sending the same request again can help. The one place this is decided is the
     * client that made the error, from its gateway's code table (src/gateway/kyanda/codes.ts,
     * src/gateway/pag/errors.ts: platform "service unavailable" codes, HTTP 429 and 5xx, a
     * network failure before sending). Callers act on this flag alone and never keep lists of
     * codes of their own.
     */
    readonly retryable: boolean,
    readonly userMessage: UserMessage,
    readonly httpStatus?: number,
  ) {
    super(message);
  }

  /** RATE_LIMITED only: how long the shared limiter said the next slot is away, when known. */
  retryAfterMs?: number;
}

/**
 * Outcome of one gateway call.
 * - accepted: taken but not yet processing (e.g. queued by offline_mode); ref may follow by IPN
 * - pending:  processing; the final result comes by IPN or the status endpoint
 * - succeeded: done; details carries receipts/tokens the gateway returned
 * - failed: definitely not done (safe to tell the user, refund, or retry with a new request)
 * - unknown: sent, but we cannot tell whether it happened (timeout after sending). Never resend
 *   blindly: look it up by `reference` first.
 */
export type GatewayResult =
  | { kind: 'accepted'; reference: string; gatewayRef?: string; message?: string; raw?: unknown }
  | { kind: 'pending'; reference: string; gatewayRef: string; message?: string; raw?: unknown }
  | { kind: 'succeeded'; reference: string; gatewayRef?: string; message?: string; details?: Record<string, string>; raw?: unknown }
  | { kind: 'failed'; reference: string; gatewayRef?: string; error: GatewayError; raw?: unknown }
  | { kind: 'unknown'; reference: string; error: GatewayError; raw?: unknown };

/** Every money-moving or SMS call carries our idempotency key as `reference`. */
export interface CallOptions {
  /** Our idempotency key (order id + step). Used as order_id on PAG, sent as metadata on Kyanda. */
  reference: string;
  /** Ask the gateway to queue the request if its downstream is unreachable (Kyanda offline_mode). */
  offlineMode?: boolean;
  /** Abort the HTTP call (the USSD deadline); the outcome then becomes `unknown` if already sent. */
  signal?: AbortSignal;
  /**
   * Who goes first when the shared gateway allowance is short (src/gateway/http/rate-limiter.ts):
   * money steps, then receipts/notices, then one-time codes, then bulk SMS batches.
   * Unset = 'money'.
   */
  priority?: CallPriority;
  /**
   * Runs once, after a rate-limit slot was obtained and right before the request first goes on
   * the wire (a payment step records "possibly sent" here: a step still waiting for a slot has
   * not left and must not look as if it might have). If it throws, nothing is sent and the call
   * fails as not sent.
   */
  beforeSend?: () => Promise<void>;
}

export type CallPriority = 'money' | 'notice' | 'otp' | 'bulk';

export interface Balance {
  floatMinor: number;
  earningsMinor: number;
}

export type CallbackParse = { ok: true; update: TransactionUpdate; signed: boolean; event?: string } | { ok: false; why: 'bad_signature' | 'unreadable' };

/** A status change reported by the gateway (IPN) or found by a status/verify lookup. */
export interface TransactionUpdate {
  gateway: GatewayName;
  gatewayRef: string;
  /** Our reference when the gateway echoes it (PAG order_id, Kyanda metadata). */
  reference?: string;
  status: 'succeeded' | 'failed' | 'pending' | 'cancelled' | 'reversed';
  /** Platform code as sent ("0000", "1107", …) or PAG status number as string. */
  code: string;
  message: string;
  category?: string;
  amountMinor?: number;
  /** ISO 4217, where the gateway says it (PAG); the Kyanda family is KES only. */
  currency?: string;
  source?: string;
  destination?: string;
  /** e.g. biller_Receipt, Telco_Reference, Kenya Power token */
  details: Record<string, string>;
  raw: unknown;
}

export interface AirtimeRequest {
  phone: string;
  amountMinor: number;
  telco: AirtimeTelco;
  initiatorPhone: string;
  productCode?: string;
}
export interface BillRequest {
  biller: Biller;
  account: string;
  amountMinor: number;
  initiatorPhone: string;
}
export interface CheckoutRequest {
  phone: string;
  amountMinor: number;
  channel: MobileChannel;
  metadata?: Record<string, string>;
}
export interface MobilePayoutRequest {
  phone: string;
  amountMinor: number;
  channel: MobileChannel;
  initiatorName: string;
  initiatorCountry: string;
}
export interface BankPayoutRequest {
  name: string;
  accountNumber: string;
  phone: string;
  bankCode: string;
  amountMinor: number;
  initiatorName: string;
  initiatorCountry: string;
}
export interface B2BRequest {
  channel: 'BusinessPayBill' | 'BusinessBuyGoods';
  shortCode: string;
  identifier: string;
  amountMinor: number;
  remarks: string;
  resultUrl: string;
}
export interface UpiRequest {
  senderAccount: string;
  senderChannel: number;
  recipientAccount: string;
  recipientChannel: number;
  amountMinor: number;
  senderCurrency: string;
  recipientCurrency: string;
  narration?: string;
}
export interface SmsRequest {
  phone: string;
  message: string;
  otp?: string;
}
export interface BulkSmsRequest {
  phones: string[];
  message: string;
}

/**
 * What a gateway can do, so that nothing above this layer needs to know its name. A menu action
 * that needs something no configured gateway has is refused at start-up (src/payments/needs.ts).
 */
export interface GatewayCapabilities {
  /** Mobile checkout (STK push / C2B). */
  checkout: boolean;
  /** Airtime and data bundles. */
  airtime: boolean;
  /** Utility and TV bills. */
  bills: boolean;
  /** Mobile wallet payouts (refunds). */
  payouts: boolean;
  /** The merchant's float balance. */
  balance: boolean;
  /** One SMS (OTP, receipt). */
  sms: boolean;
  /** Up to 1,000 recipients in one request. */
  bulkSms: boolean;
  /** offline_mode: the gateway queues the request and answers by IPN. */
  offlineMode: boolean;
  /** The IPN URL is registered once with the gateway (not sent with each request). */
  registersCallback: boolean;
  /**
   * The status lookup finds a transaction by OUR reference with authority: "not found" proves
   * the gateway never received it (PAG's order_id is its idempotency key), so it may be sent
   * again. Without it, "not found" under our reference proves nothing.
   */
  findsOwnReference: boolean;
  /**
   * A payment found under our reference is for the amount we asked under it: the reference is
   * the gateway's idempotency key and its status answer does not repeat the amount (PAG). Without
   * it, a status that does not say how much was paid cannot confirm a payment.
   */
  amountBoundToReference: boolean;
}

/** What the gateway's own status lookup says about one of our steps. */
export type Lookup =
  | { kind: 'found'; update: TransactionUpdate }
  /** Nothing found. `proof`: the gateway would know it under this reference had it ever received it. */
  | { kind: 'not_found'; proof: boolean };

export interface Gateway {
  readonly name: GatewayName;
  readonly capabilities: GatewayCapabilities;
  /**
   * The gateway's own word on one of our steps: by its reference when we have it (the only
   * reference a status lookup is guaranteed to know), else by ours where the gateway offers a
   * way (verify, order_id). Throws when the gateway cannot answer.
   */
  lookup(q: { gatewayRef?: string; reference: string }): Promise<Lookup>;
  balance(): Promise<Balance>;
  /** Status by the gateway's reference (or ours, where the gateway indexes it). */
  transactionStatus(ref: string): Promise<TransactionUpdate | null>;
  verifyTransaction(ref: string): Promise<TransactionUpdate | null>;
  airtime(req: AirtimeRequest, opts: CallOptions): Promise<GatewayResult>;
  pinAirtime(req: AirtimeRequest, opts: CallOptions): Promise<GatewayResult>;
  payBill(req: BillRequest, opts: CallOptions): Promise<GatewayResult>;
  checkout(req: CheckoutRequest, opts: CallOptions): Promise<GatewayResult>;
  mobilePayout(req: MobilePayoutRequest, opts: CallOptions): Promise<GatewayResult>;
  bankPayout(req: BankPayoutRequest, opts: CallOptions): Promise<GatewayResult>;
  b2b(req: B2BRequest, opts: CallOptions): Promise<GatewayResult>;
  upiTransfer?(req: UpiRequest, opts: CallOptions): Promise<GatewayResult>;
  sendSms(req: SmsRequest, opts: CallOptions): Promise<GatewayResult>;
  /** At most 1,000 phones; the adapter rejects more with a GatewayError. */
  bulkSms(req: BulkSmsRequest, opts: CallOptions): Promise<GatewayResult>;
  registerCallback(url: string): Promise<GatewayResult>;
  telcoCheck(prefix: string): Promise<{ telco: string } | null>;
  /**
   * Reads an IPN or webhook. `bad_signature`: a signature was sent and is wrong (or required and
   * missing); `unreadable`: not a notification we understand. An accepted update is only a
   * reason to look the transaction up: money never moves on it.
   */
  parseCallback(headers: Record<string, string | string[] | undefined>, rawBody: string): CallbackParse;
  close(): Promise<void>;
}
