// The Payment API Gateway 5.7.3 adapter (docs/gateways.md, "Payment API Gateway 5.7.3"): payment_c2b (checkout), payment_b2c
// (payouts, refunds), status (lookups, and the universal-flow / OTP continuations), signed with
// the recursive HMAC-SHA512 of signature.ts. order_id is our CallOptions.reference.
//
// Endpoints this gateway does not have: the result-returning calls (airtime, PIN airtime, bill,
// bank payout, B2B, SMS, bulk SMS, callback registration) answer `failed` with GatewayError code
// UNSUPPORTED; balance() and telcoCheck() have no result to carry it and throw that error.
import type { Gateway, GatewayCapabilities, GatewayResult, TransactionUpdate, CallOptions } from '../types.js';
import { gatewayHttp } from '../http/index.js';
import { keyNames } from '../../keys.js';
import type { GatewayDeps } from '../kyanda/client.js';
import { maskPhone } from '../../log.js';
import { pagErrors } from './errors.js';
import { exchange, type ExchangeDeps, type PagPath } from './exchange.js';
import { parsePagCallback } from './callback.js';
import { num, resultCode, resultFromUpdate, str, toResult, toUpdate, type PagReply } from './replies.js';
import { COUNTRY_OF, SANDBOX_COMPLETING_PROVIDER, SIMULATOR_PROVIDER, customerId, formatAmount, pagOrderId, PAG_STATUS, type PagCurrency } from './wire.js';

export interface PagPaymentRequest {
  /** Any phone form; sent as customer_id digits with the country code (2547…). */
  phone: string;
  amountMinor: number;
  /** customer_user_id (≤ 200 chars); default: the customer_id digits. */
  customerUserId?: string;
  /** Sent as `extra` (universal flow data, e.g. customer_email; `phone` starts the OTP step). */
  extra?: Record<string, string>;
  /** Default PAG_PROVIDER_ID. */
  providerId?: number;
  /** Default PAG_CURRENCY. */
  currency?: PagCurrency;
}

export interface RequiredFields {
  /** Status of the operation (8 while data is still missing). */
  status: number | undefined;
  /** action.fields: the fields still needed, as the gateway describes them. */
  fields: Record<string, unknown>;
  /** action.errors: every message per field (arrays, as the 5.7.3 reference insists). */
  errors: Record<string, string[]>;
  /** errors[field][0] for each field. */
  firstErrors: Record<string, string>;
  raw: PagReply;
}

export interface PagGateway extends Gateway {
  readonly name: 'pag';
  /** payment_c2b with every 5.7.3 option. checkout() is this with the defaults. */
  paymentC2b(req: PagPaymentRequest, opts: CallOptions): Promise<GatewayResult>;
  /** payment_b2c with every 5.7.3 option. mobilePayout() is this with the defaults. */
  paymentB2c(req: PagPaymentRequest, opts: CallOptions): Promise<GatewayResult>;
  /**
   * The confirmation step of a payout whose answer had a non-zero confirm_type
   * (pagNeedsConfirmation): the 5.7.3 reference says to send a second payment_b2c with confirmation data;
   * its "Confirmation Types" section is missing, so `confirmation` is sent inside `extra`
   * (the sandbox wants { confirmation_code }). Same reference, so the same order_id.
   */
  confirmPayout(req: PagPaymentRequest, confirmation: Record<string, string>, opts: CallOptions): Promise<GatewayResult>;
  /** Universal flow step 2: STATUS for an order in status 8 → action.fields / action.errors. */
  requiredFields(reference: string, opts?: { signal?: AbortSignal }): Promise<RequiredFields>;
  /**
   * STATUS with `extra`: universal-flow data (step 3), an OTP ({ otp }), or the confirmation data
   * of a payout whose answer had a non-zero confirm_type. The answer as a GatewayResult; a
   * status-8 answer means the data was still not enough (see requiredFields).
   */
  submitExtra(reference: string, extra: Record<string, string>, opts?: { signal?: AbortSignal }): Promise<GatewayResult>;
  /** submitExtra(reference, { otp }). */
  submitOtp(reference: string, otp: string, opts?: { signal?: AbortSignal }): Promise<GatewayResult>;
}

export const PAG_CAPABILITIES: GatewayCapabilities = {
  checkout: true,
  payouts: true,
  airtime: false,
  bills: false,
  balance: false,
  sms: false,
  bulkSms: false,
  offlineMode: false,
  // callback_url travels with each payment.
  registersCallback: false,
  // order_id is the gateway's idempotency key and STATUS is asked by it: "not found" is final.
  findsOwnReference: true,
  amountBoundToReference: true,
};

function unsupported(what: string) {
  return async (_req: unknown, opts?: CallOptions): Promise<GatewayResult> => ({
    kind: 'failed',
    reference: opts?.reference ?? '',
    error: pagErrors.unsupported(what),
  });
}

export function createPagGateway(app: GatewayDeps, baseUrl: string): PagGateway {
  const c = app.config;
  const { transport, limiter } = gatewayHttp(app, baseUrl, 'pag', keyNames(app.key).ratelimit.pag(c.MERCHANT_ID));
  const deps: ExchangeDeps = {
    transport,
    limiter,
    logger: app.logger,
    secret: c.GATEWAY_SECRET,
    publicId: c.PAG_PUBLIC_ID,
    maxAttempts: c.GATEWAY_MAX_ATTEMPTS,
    retryBaseMs: c.GATEWAY_RETRY_BASE_MS,
    rateWaitMs: c.GATEWAY_RATE_WAIT_MS,
  };
  const callbackUrl = `${c.PUBLIC_URL}/callbacks/pag`;
  // Embedded, the sandbox's completing provider makes `GATEWAY=pag npm start` behave as
  // docs/gateway-clients.md says (checkouts finish); against a real gateway 14 is its simulator.
  const providerId = c.PAG_PROVIDER_ID ?? (c.embeddedSandbox ? SANDBOX_COMPLETING_PROVIDER : SIMULATOR_PROVIDER);

  async function statusCall(reference: string, extra: Record<string, string> | undefined, signal?: AbortSignal) {
    const body: Record<string, unknown> = { merchant_id: c.MERCHANT_ID, order_id: pagOrderId(reference) };
    if (extra) body.extra = extra;
    return exchange(deps, 'status', body, signal);
  }

  /** STATUS by order_id; null when the gateway does not know the order (HTTP 404). */
  async function lookup(reference: string, signal?: AbortSignal): Promise<TransactionUpdate | null> {
    const o = await statusCall(reference, undefined, signal);
    if (o.type !== 'reply') throw o.error;
    if (o.httpStatus === 404) return null;
    const code = resultCode(o.reply);
    if (o.httpStatus >= 400 || (code !== undefined && code !== 0 && num(o.reply.status) !== PAG_STATUS.DATA_REQUIRED)) {
      throw pagErrors.result(code ?? o.httpStatus, str(o.reply.result?.message) ?? '', o.httpStatus);
    }
    return toUpdate(o.reply, pagOrderId(reference));
  }

  async function init(path: PagPath, req: PagPaymentRequest, opts: CallOptions): Promise<GatewayResult> {
    const reference = opts.reference;
    const currency = req.currency ?? c.PAG_CURRENCY;
    const phone = customerId(req.phone, currency);
    if (!phone.ok) return { kind: 'failed', reference, error: pagErrors.badPhone(phone.reason) };
    let amount: string;
    try {
      amount = formatAmount(req.amountMinor);
    } catch (e) {
      return { kind: 'failed', reference, error: pagErrors.badAmount((e as Error).message) };
    }
    const userId = (req.customerUserId ?? phone.value).slice(0, 200);
    // Field order follows the 5.7.3 reference's request sample; the signature follows the order sent.
    const body: Record<string, unknown> = {
      merchant_id: c.MERCHANT_ID,
      customer_id: phone.value,
      customer_user_id: userId,
      order_id: pagOrderId(reference),
      amount,
      currency,
      country: COUNTRY_OF[currency],
      callback_url: callbackUrl,
      provider_id: req.providerId ?? providerId,
    };
    if (req.extra && Object.keys(req.extra).length > 0) body.extra = req.extra;
    app.logger.info({ gateway: 'pag', path, order_id: body.order_id, phone: maskPhone(phone.value), amount }, 'gateway init');
    const o = await exchange(deps, path, body, opts.signal, opts.priority, opts.beforeSend);
    if (o.type === 'unsent') return { kind: 'failed', reference, error: o.error };
    if (o.type === 'unknown') {
      // Whatever happened is recorded under our order_id: ask before answering "unknown".
      const found = await lookup(reference, AbortSignal.timeout(c.GATEWAY_LOOKUP_TIMEOUT_MS)).catch(() => null);
      return found ? resultFromUpdate(found, reference) : { kind: 'unknown', reference, error: o.error };
    }
    const r = o.reply;
    if (o.httpStatus >= 400) {
      const code = resultCode(r);
      const error = code !== undefined && code !== 0 ? pagErrors.result(code, str(r.result?.message) ?? '', o.httpStatus) : pagErrors.http(o.httpStatus);
      return { kind: 'failed', reference, error, raw: r };
    }
    return toResult(r, reference);
  }

  async function continueWith(reference: string, extra: Record<string, string>, signal?: AbortSignal): Promise<GatewayResult> {
    const o = await statusCall(reference, extra, signal);
    if (o.type === 'unsent') return { kind: 'failed', reference, error: o.error };
    if (o.type === 'unknown') return { kind: 'unknown', reference, error: o.error };
    if (o.httpStatus >= 400) {
      const code = resultCode(o.reply);
      return { kind: 'failed', reference, error: pagErrors.result(code ?? o.httpStatus, str(o.reply.result?.message) ?? '', o.httpStatus), raw: o.reply };
    }
    return toResult(o.reply, reference);
  }

  function noResult(what: string): never {
    throw pagErrors.unsupported(what);
  }

  const gw: PagGateway = {
    name: 'pag',
    capabilities: PAG_CAPABILITIES,
    // STATUS is asked by our order_id whatever reference we hold: it is the one PAG indexes.
    async lookup(q) {
      const u = await lookup(q.reference, AbortSignal.timeout(c.GATEWAY_LOOKUP_TIMEOUT_MS));
      return u ? { kind: 'found', update: u } : { kind: 'not_found', proof: true };
    },
    paymentC2b: (req, opts) => init('payment_c2b', req, opts),
    paymentB2c: (req, opts) => init('payment_b2c', req, opts),
    // The channel (MPESA/AIRTEL/…) has no field here: PAG_PROVIDER_ID picks the provider.
    checkout: (req, opts) =>
      init(
        'payment_c2b',
        {
          phone: req.phone,
          amountMinor: req.amountMinor,
          ...(req.metadata?.customer_user_id ? { customerUserId: req.metadata.customer_user_id } : {}),
        },
        opts,
      ),
    confirmPayout: (req, confirmation, opts) => init('payment_b2c', { ...req, extra: { ...req.extra, ...confirmation } }, opts),
    mobilePayout: (req, opts) => init('payment_b2c', { phone: req.phone, amountMinor: req.amountMinor }, opts),
    transactionStatus: (ref) => lookup(ref),
    verifyTransaction: (ref) => lookup(ref),
    async requiredFields(reference, opts = {}) {
      const o = await statusCall(reference, undefined, opts.signal);
      if (o.type !== 'reply') throw o.error;
      if (o.httpStatus >= 400) throw pagErrors.result(resultCode(o.reply) ?? o.httpStatus, str(o.reply.result?.message) ?? '', o.httpStatus);
      const fields = (o.reply.action?.fields ?? {}) as Record<string, unknown>;
      const errors: Record<string, string[]> = {};
      const firstErrors: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.reply.action?.errors ?? {})) {
        // The 5.7.3 reference: errors are arrays; a lone string is tolerated rather than split into letters.
        const list = Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
        errors[k] = list;
        if (list[0] !== undefined) firstErrors[k] = list[0];
      }
      return { status: num(o.reply.status), fields, errors, firstErrors, raw: o.reply };
    },
    submitExtra: (reference, extra, opts = {}) => continueWith(reference, extra, opts.signal),
    submitOtp: (reference, otp, opts = {}) => continueWith(reference, { otp }, opts.signal),
    balance: async () => noResult('balance endpoint'),
    telcoCheck: async () => noResult('telco check endpoint'),
    airtime: unsupported('airtime endpoint'),
    pinAirtime: unsupported('PIN airtime endpoint'),
    payBill: unsupported('bill payment endpoint'),
    bankPayout: unsupported('bank payout endpoint'),
    b2b: unsupported('B2B endpoint'),
    sendSms: unsupported('SMS endpoint'),
    bulkSms: unsupported('bulk SMS endpoint'),
    registerCallback: async (url) => ({
      kind: 'failed',
      reference: url,
      error: pagErrors.unsupported('callback registration (callback_url is sent with each payment)'),
    }),
    parseCallback: (_headers, rawBody) => parsePagCallback(rawBody, c.GATEWAY_SECRET, c.IPN_SIGNATURE === 'required'),
    close: () => transport.close(),
  };
  return gw;
}
