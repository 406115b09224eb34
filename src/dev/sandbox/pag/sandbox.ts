// The Payment API Gateway 5.7.3 imitation (docs/gateways.md, "Payment API Gateway 5.7.3"),
// mounted by the sandbox module at /sandbox/pag: POST {prefix}/{public_id}/payment_c2b |
// payment_b2c | status, any public_id.
//
// Checks, in order: JSON object body (400, result 3) → merchant_id = MERCHANT_ID (401, result 2)
// → signature over the body as sent, GATEWAY_SECRET (401, result 1) → order_id → for INIT, a
// known order_id replays its first answer verbatim (documented: identical nonce → identical response,
// operation not repeated) → required fields (400, result 3) → provider/currency (400, result 5).
//
// Providers: 14 is the documented simulator (status 1, provider_result -8888 "Good", stays in
// progress, no callback). 40 is a sandbox-only "completing" provider: status 1, then after
// SANDBOX_CHECKOUT_DELAY_MS status 2 (customer 254700000001 → 4 cancelled, 254700000002 → 3
// insufficient funds) and a signed callback to callback_url.
// Universal flow: provider 40 with a currency other than KES needs extra.customer_email →
// status 8 until STATUS brings it. OTP flow: an INIT whose extra has `phone` answers status 1
// "OTP sent"; STATUS with extra.otp = PAG_SANDBOX_OTP → 2; a wrong one stays 1 (3 wrong → 3).
// Payout confirmation: a provider-40 payment_b2c to 254700000003 answers confirm_type 1 and
// waits; a second payment_b2c with the same order_id and extra.confirmation_code =
// PAG_SANDBOX_OTP releases it (the documentation's "Confirmation Types" section is missing: assumed).
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../../config.js';
import type { Logger } from '../../../log.js';
import { maskPhone } from '../../../log.js';
import { smallBody } from '../../../http/body.js';
import type { LedgerEntry } from '../types.js';
import { OrderedObject, parseOrdered, toPlain } from '../../../gateway/pag/ordered-json.js';
import { signBody, verifySignature } from '../../../gateway/pag/signature.js';
import { isValidOrderId, isWireAmount, PAG_CURRENCIES, SANDBOX_COMPLETING_PROVIDER, SIMULATOR_PROVIDER } from '../../../gateway/pag/wire.js';
import { errorReply, RESULT, SERVICE, serviceDateTime } from './replies.js';
import { newTransactionId, stateReply, type Order, type PagOp } from './orders.js';

export interface PagSandbox {
  /** Adds /{public_id}/payment_c2b|payment_b2c|status under `prefix` (e.g. "/sandbox/pag"). */
  routes(router: Router): void;
  /** POST /sandbox/_reset calls this. */
  reset(): void;
  /** Clears timers (service shutdown). */
  stop(): void;
}

export interface PagSandboxDeps {
  config: Config;
  logger: Logger;
  prefix: string;
  /** Appends to the shared /sandbox/_ledger. */
  record(entry: LedgerEntry): void;
}

/** Sandbox customers whose payments do not succeed on provider 40. */
export const PAG_SANDBOX_CUSTOMERS = { cancels: '254700000001', noFunds: '254700000002', confirmsPayout: '254700000003' } as const;
/** Callback delivery attempts: now, then after these delays (ms), until a 2xx. */
const CALLBACK_RETRY_MS = [500, 2000];
const MAX_OTP_FAILURES = 3;
const OPERATION_TYPE: Record<PagOp, number> = { payment_b2c: 16, payment_c2b: 17 };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

class Reject extends Error {
  constructor(
    readonly http: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function createPagSandbox(deps: PagSandboxDeps): PagSandbox {
  const { config, logger } = deps;
  const orders = new Map<string, Order>();
  const timers = new Set<NodeJS.Timeout>();

  function later(ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => {
      timers.delete(t);
      void Promise.resolve(fn()).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'pag sandbox timer failed'));
    }, ms);
    timers.add(t);
  }

  /** Parses and authenticates one request: the body as a plain object, or a Reject. */
  function authenticate(ctx: Context): Record<string, unknown> {
    const raw = (ctx.request as { rawBody?: string }).rawBody;
    let doc: unknown;
    try {
      doc = parseOrdered(raw ?? '');
    } catch {
      throw new Reject(400, RESULT.PARAMETER, 'request body must be a JSON object');
    }
    if (!(doc instanceof OrderedObject)) throw new Reject(400, RESULT.PARAMETER, 'request body must be a JSON object');
    if (doc.get('merchant_id') !== config.MERCHANT_ID) throw new Reject(401, RESULT.MERCHANT, 'invalid merchant_id');
    if (typeof doc.get('signature') !== 'string') throw new Reject(401, RESULT.SIGNATURE, 'missing signature');
    if (!verifySignature(doc, doc.get('signature'), config.GATEWAY_SECRET)) throw new Reject(401, RESULT.SIGNATURE, 'invalid signature');
    const body = toPlain(doc) as Record<string, unknown>;
    if (!isValidOrderId(body.order_id)) throw new Reject(400, RESULT.PARAMETER, 'order_id is required: 1-128 characters of [A-Za-z0-9_:.-]');
    return body;
  }

  /**
   * `extra` is an object whose values may be anything JSON holds (strings, numbers, booleans,
   * null, nested objects and lists): the reference signature function walks them all
   * (docs/gateways.md, "5.7.3 signature"), so the sandbox is no stricter. Only the keys it acts
   * on are read, as text (scalar()).
   */
  function readExtra(v: unknown): Record<string, unknown> {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new Reject(400, RESULT.PARAMETER, 'extra must be an object');
    return { ...(v as Record<string, unknown>) };
  }

  /** A string or number of extra as text; anything else (true, null, an object) as undefined. */
  function scalar(v: unknown): string | undefined {
    return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
  }

  function validateInit(b: Record<string, unknown>): void {
    const need = (k: string, ok: boolean, what: string) => {
      if (!ok) throw new Reject(400, RESULT.PARAMETER, `${k} ${b[k] === undefined ? 'is required' : `must be ${what}`}`);
    };
    const customer = b.customer_id;
    // The documented sample sends customer_id as a number (900000001).
    need('customer_id', (typeof customer === 'string' || typeof customer === 'number') && /^\d{6,15}$/.test(String(customer)), 'digits');
    need(
      'customer_user_id',
      typeof b.customer_user_id === 'string' && b.customer_user_id.length >= 1 && b.customer_user_id.length <= 200,
      'a string of at most 200 characters',
    );
    need('amount', isWireAmount(b.amount), 'a positive amount with two decimals, e.g. "100.00"');
    need('currency', typeof b.currency === 'string' && (PAG_CURRENCIES as readonly string[]).includes(b.currency), `one of ${PAG_CURRENCIES.join(', ')}`);
    need('provider_id', Number.isInteger(b.provider_id), 'an integer');
    if (b.country !== undefined) need('country', typeof b.country === 'string' && /^[A-Z]{2}$/.test(b.country), 'an ISO 3166-1 alpha-2 code');
    if (b.callback_url !== undefined) need('callback_url', typeof b.callback_url === 'string' && /^https?:\/\/\S+$/.test(b.callback_url), 'an http(s) URL');
    if (b.provider_id !== SIMULATOR_PROVIDER && b.provider_id !== SANDBOX_COMPLETING_PROVIDER) {
      throw new Reject(400, RESULT.UNSUPPORTED, `unsupported provider_id ${String(b.provider_id)}: the sandbox has 14 (simulator) and 40 (completing)`);
    }
  }

  /** Fields the provider needs in extra that are missing or invalid, with their messages. */
  function missingData(o: Pick<Order, 'providerId' | 'body' | 'extra'>): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    if (o.providerId === SANDBOX_COMPLETING_PROVIDER && o.body.currency !== 'KES') {
      const email = o.extra.customer_email;
      if (email === undefined || email === null || email === '') errors.customer_email = ['The customer email field is required.'];
      else if (!EMAIL.test(scalar(email) ?? '')) errors.customer_email = ['The customer email must be a valid email address.'];
    }
    return errors;
  }

  const FIELD_INFO: Record<string, unknown> = { customer_email: { type: 'string', format: 'email', required: true, label: 'Customer email' } };

  function actionFor(errors: Record<string, string[]>): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    for (const k of Object.keys(errors)) fields[k] = FIELD_INFO[k] ?? { type: 'string', required: true };
    return { fields, errors };
  }

  /** Moves an order whose data is complete into progress: OTP wait, simulator, or completion. */
  function start(o: Order): void {
    o.status = 1;
    if (
      o.op === 'payment_b2c' &&
      o.providerId === SANDBOX_COMPLETING_PROVIDER &&
      o.confirmType === 0 &&
      !o.confirmReply &&
      String(o.body.customer_id) === PAG_SANDBOX_CUSTOMERS.confirmsPayout
    ) {
      o.confirmType = 1;
      o.providerResult = { code: 0, message: 'Confirmation required' };
      return;
    }
    const otpPhone = scalar(o.extra.phone);
    if (otpPhone !== undefined && o.extra.otp === undefined) {
      o.otpPending = true;
      o.providerResult = { code: 0, message: 'OTP sent' };
      logger.info({ sandbox: 'pag', order_id: o.orderId, phone: maskPhone(otpPhone) }, 'sandbox OTP sent');
      return;
    }
    if (o.providerId === SIMULATOR_PROVIDER) {
      o.providerResult = { code: -8888, message: 'Good' };
      return;
    }
    o.providerResult = { code: 0, message: 'Accepted' };
    later(config.SANDBOX_CHECKOUT_DELAY_MS, () => complete(o));
  }

  function complete(o: Order, forced?: { status: number; message: string }): Promise<void> | void {
    if (o.status !== 1) return;
    const customer = String(o.body.customer_id);
    const outcome =
      forced ??
      (customer === PAG_SANDBOX_CUSTOMERS.cancels
        ? { status: 4, message: 'Cancelled by the customer' }
        : customer === PAG_SANDBOX_CUSTOMERS.noFunds
          ? { status: 3, message: 'Insufficient funds' }
          : { status: 2, message: 'Success' });
    o.status = outcome.status;
    o.otpPending = false;
    o.providerResult = { code: outcome.status === 2 ? 0 : outcome.status === 4 ? 1032 : 1, message: outcome.message };
    if (outcome.status === 2) o.transactionRef = `SBX.${o.transactionId}`;
    // The documented simulator never sends callbacks; only the sandbox's completing provider does.
    if (o.providerId === SANDBOX_COMPLETING_PROVIDER) return deliverCallback(o, 0);
  }

  async function deliverCallback(o: Order, attempt: number): Promise<void> {
    const url = o.body.callback_url;
    if (typeof url !== 'string') return;
    const body = signBody(
      {
        transaction_id: o.transactionId,
        order_id: o.orderId,
        status: o.status,
        type: OPERATION_TYPE[o.op],
        amount: o.body.amount,
        currency: o.body.currency,
        customer_id: String(o.body.customer_id),
        ...SERVICE,
        service_date_time: serviceDateTime(),
        result: { code: RESULT.OK, message: 'OK' },
        provider_result: o.providerResult,
      },
      config.GATEWAY_SECRET,
    );
    let ok = false;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      ok = res.status >= 200 && res.status < 300;
      await res.body?.cancel();
    } catch {
      /* retried below */
    }
    logger.info({ sandbox: 'pag', order_id: o.orderId, status: o.status, attempt, delivered: ok }, 'sandbox callback');
    const wait = CALLBACK_RETRY_MS[attempt];
    if (!ok && wait !== undefined) later(wait, () => deliverCallback(o, attempt + 1));
  }

  function init(op: PagOp, b: Record<string, unknown>): { http: number; body: Record<string, unknown> } {
    const orderId = b.order_id as string;
    const seen = orders.get(orderId);
    if (seen) {
      const code = b.extra && typeof b.extra === 'object' ? (b.extra as Record<string, unknown>).confirmation_code : undefined;
      if (op === 'payment_b2c' && seen.op === op && code !== undefined) return confirm(seen, String(code));
      return { http: 200, body: seen.initReply };
    }
    validateInit(b);
    const o: Order = {
      op,
      orderId,
      transactionId: newTransactionId(),
      transactionRef: '',
      status: 0,
      providerId: b.provider_id as number,
      providerResult: { code: -8888, message: '' },
      body: b,
      extra: readExtra(b.extra),
      initReply: {},
      missing: [],
      otpPending: false,
      otpFailures: 0,
      confirmType: 0,
    };
    const missing = missingData(o);
    if (Object.keys(missing).length > 0) {
      o.status = 8;
      o.missing = Object.keys(missing);
    } else {
      start(o);
    }
    // The documentation: "Expecting the action block in the INIT response" is a mistake: none here.
    o.initReply = { ...stateReply(o), confirm_type: o.confirmType };
    orders.set(orderId, o);
    deps.record({ ref: o.transactionId, endpoint: `pag/${op}`, body: b, status: String(o.status), at: new Date().toISOString(), reference: orderId });
    return { http: 200, body: o.initReply };
  }

  /** The second payment_b2c of a payout with a non-zero confirm_type. */
  function confirm(o: Order, code: string): { http: number; body: Record<string, unknown> } {
    if (o.confirmReply) return { http: 200, body: o.confirmReply };
    if (o.confirmType === 0) return { http: 200, body: o.initReply };
    if (code !== config.PAG_SANDBOX_OTP) {
      return { http: 200, body: { ...stateReply(o, { provider_result: { code: -1, message: 'Invalid confirmation code' } }), confirm_type: o.confirmType } };
    }
    o.confirmType = 0;
    o.providerResult = { code: 0, message: 'Accepted' };
    later(config.SANDBOX_CHECKOUT_DELAY_MS, () => complete(o));
    o.confirmReply = { ...stateReply(o), confirm_type: 0 };
    return { http: 200, body: o.confirmReply };
  }

  function status(b: Record<string, unknown>): { http: number; body: Record<string, unknown> } {
    const o = orders.get(b.order_id as string);
    if (!o) return { http: 404, body: errorReply(b.order_id, RESULT.NOT_FOUND, 'order not found') };
    const extra = readExtra(b.extra);
    if (o.status === 8) {
      // STATUS data is used for this attempt; only what completes the request is kept.
      const trial = { ...o.extra, ...extra };
      const errors = missingData({ providerId: o.providerId, body: o.body, extra: trial });
      if (Object.keys(errors).length > 0) return { http: 200, body: stateReply(o, { action: actionFor(errors) }) };
      for (const k of o.missing) if (trial[k] !== undefined) o.extra[k] = trial[k];
      o.missing = [];
      start(o);
      return { http: 200, body: stateReply(o) };
    }
    if (o.otpPending && extra.otp !== undefined) {
      if (scalar(extra.otp) === config.PAG_SANDBOX_OTP) {
        o.providerResult = { code: 0, message: 'OTP confirmed' };
        void complete(o, { status: 2, message: 'Success' });
        return { http: 200, body: stateReply(o) };
      }
      o.otpFailures++;
      if (o.otpFailures >= MAX_OTP_FAILURES) {
        void complete(o, { status: 3, message: 'Too many wrong OTP attempts' });
        return { http: 200, body: stateReply(o) };
      }
      return {
        http: 200,
        body: stateReply(o, { provider_result: { code: -1, message: 'Invalid OTP' }, action: { fields: {}, errors: { otp: ['The OTP is invalid.'] } } }),
      };
    }
    return { http: 200, body: stateReply(o) };
  }

  function handler(op: PagOp | 'status') {
    return async (ctx: Context) => {
      let answer: { http: number; body: Record<string, unknown> };
      let orderId: unknown;
      try {
        const b = authenticate(ctx);
        orderId = b.order_id;
        answer = op === 'status' ? status(b) : init(op, b);
      } catch (e) {
        if (!(e instanceof Reject)) throw e;
        if (orderId === undefined) {
          const guess = (ctx.request as { body?: unknown }).body;
          orderId = guess && typeof guess === 'object' ? (guess as { order_id?: unknown }).order_id : undefined;
        }
        logger.info({ sandbox: 'pag', op, http: e.http, resultCode: e.code, reason: e.message }, 'sandbox rejected');
        answer = { http: e.http, body: errorReply(orderId, e.code, e.message) };
      }
      ctx.status = answer.http;
      ctx.body = answer.body;
    };
  }

  return {
    routes(router) {
      const body = smallBody();
      router.post(`${deps.prefix}/:public_id/payment_c2b`, body, handler('payment_c2b'));
      router.post(`${deps.prefix}/:public_id/payment_b2c`, body, handler('payment_b2c'));
      router.post(`${deps.prefix}/:public_id/status`, body, handler('status'));
    },
    reset() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      orders.clear();
    },
    stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
