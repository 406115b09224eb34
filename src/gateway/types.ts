// The Gateway interface in our own terms. Adapters (kyanda/, pag/) translate to the wire;
// nothing above this layer knows field names, signature orders or phone formats of a gateway.
//
// Money is an integer number of the smallest unit (KES cents) everywhere in our code
// (DESIGN trap 10); adapters format it for the wire ("1500" for Kyanda, "100.00" for PAG).
// Phones are E.164 strings (+2547…); adapters convert per field.

export type GatewayName = 'kyanda' | 'pag';
export type MobileChannel = 'MPESA' | 'AIRTEL' | 'EQUITEL';
export type AirtimeTelco = 'SAFARICOM' | 'AIRTEL' | 'TELKOM' | 'EQUITEL' | 'FAIBA' | 'FAIBA_B';
export type Biller = 'KPLC_PREPAID' | 'KPLC_POSTPAID' | 'DSTV' | 'GOTV' | 'ZUKU' | 'STARTIMES' | 'NAIROBI_WTR';

/** Messages safe to show on a handset, in both languages. */
export interface UserMessage { en: string; sw: string }

/** A gateway failure with a stable code (the gateway's own where it has one, e.g. "1104"). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: string,
    message: string,
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
}

export type CallPriority = 'money' | 'notice' | 'otp' | 'bulk';

export interface Balance { floatMinor: number; earningsMinor: number }

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
  source?: string;
  destination?: string;
  /** e.g. biller_Receipt, Telco_Reference, Kenya Power token */
  details: Record<string, string>;
  raw: unknown;
}

export interface AirtimeRequest { phone: string; amountMinor: number; telco: AirtimeTelco; initiatorPhone: string; productCode?: string }
export interface BillRequest { biller: Biller; account: string; amountMinor: number; initiatorPhone: string }
export interface CheckoutRequest { phone: string; amountMinor: number; channel: MobileChannel; metadata?: Record<string, string> }
export interface MobilePayoutRequest { phone: string; amountMinor: number; channel: MobileChannel; initiatorName: string; initiatorCountry: string }
export interface BankPayoutRequest {
  name: string; accountNumber: string; phone: string; bankCode: string; amountMinor: number;
  initiatorName: string; initiatorCountry: string;
}
export interface B2BRequest {
  channel: 'BusinessPayBill' | 'BusinessBuyGoods'; shortCode: string; identifier: string;
  amountMinor: number; remarks: string; resultUrl: string;
}
export interface UpiRequest {
  senderAccount: string; senderChannel: number; recipientAccount: string; recipientChannel: number;
  amountMinor: number; senderCurrency: string; recipientCurrency: string; narration?: string;
}
export interface SmsRequest { phone: string; message: string; otp?: string }
export interface BulkSmsRequest { phones: string[]; message: string }

export interface Gateway {
  readonly name: GatewayName;
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
  /** Verify an IPN's signature and parse it; null when the signature is wrong. */
  parseCallback(headers: Record<string, string | string[] | undefined>, rawBody: string): TransactionUpdate | null;
  close(): Promise<void>;
}
