// The Kyanda-family API v2 adapter: the Gateway interface over the endpoint table
// (endpoints.ts), the safe-retry exchange (exchange.ts) and the shared transport and
// Redis rate limiter (../http). One instance owns one dispatcher unless one is injected.
import type { Dispatcher } from 'undici';
import type { Gateway, GatewayCapabilities, GatewayContext, GatewayResult, Lookup, TransactionUpdate, CallOptions } from '../types.js';
import { GatewayError } from '../types.js';
import { gatewayHttp } from '../http/index.js';
import { keyNames } from '../../keys.js';
import { DUPLICATE_CODES } from './codes.js';
import { ENDPOINTS, type Endpoint } from './endpoints.js';
import { exchange, type ExchangeDeps, type Outcome } from './exchange.js';
import { parseIpn } from './ipn.js';
import { resultFromUpdate, str, toBalance, toResult, toUpdate } from './replies.js';

export interface GatewayDeps extends GatewayContext {
  /** Injected undici dispatcher; default: a keep-alive Agent owned (and closed) by this gateway. */
  dispatcher?: Dispatcher;
  /** Rate-limit window; GATEWAY_RATE_LIMIT_PER_MIN is per minute, tests shorten the minute. */
  rateWindowMs?: number;
}

export const KYANDA_CAPABILITIES: GatewayCapabilities = {
  checkout: true,
  airtime: true,
  bills: true,
  payouts: true,
  balance: true,
  sms: true,
  bulkSms: true,
  offlineMode: true,
  registersCallback: true,
  // transaction-status takes the reference the gateway returned; "not found" under ours proves nothing.
  findsOwnReference: false,
  amountBoundToReference: false,
};

/** Answers to a telco check that mean "no such prefix", not "the call failed". */
const TELCO_NOT_FOUND = new Set(['1108', '1109', '7001', '8003', '9002']);

export function createKyandaGateway(app: GatewayDeps, baseUrl: string): Gateway {
  const c = app.config;
  // The gateway counts per API key (docs/gateways.md, "Limits"); the key itself must not appear in Redis.
  const { transport, limiter } = gatewayHttp(app, baseUrl, 'kyanda', keyNames(app.key).ratelimit.kyanda(c.GATEWAY_API_KEY));
  const deps: ExchangeDeps = {
    transport,
    limiter,
    logger: app.logger,
    apiKey: c.GATEWAY_API_KEY,
    secret: c.GATEWAY_SECRET,
    ctx: { merchantId: c.MERCHANT_ID, config: c },
    maxAttempts: c.GATEWAY_MAX_ATTEMPTS,
    retryBaseMs: c.GATEWAY_RETRY_BASE_MS,
    rateWaitMs: c.GATEWAY_RATE_WAIT_MS,
  };

  /**
   * `gatewayRef` true: `ref` is the gateway's own reference (a record without one is named by
   * it); false: ours, so a record that does not name itself is not taken for it.
   */
  async function lookupCall(
    ep: Endpoint<string>,
    ref: string,
    gatewayRef: boolean,
    budget?: { signal: AbortSignal; deadline: number },
    priority?: CallOptions['priority'],
  ): Promise<TransactionUpdate | null> {
    const o = await exchange(deps, ep, ref, {
      ...(budget ? { signal: budget.signal, timeoutMs: Math.max(1, budget.deadline - Date.now()) } : {}),
      ...(priority ? { priority } : {}),
    });
    if (o.type !== 'reply') throw o.error;
    if (!o.reply.ok) {
      if (o.reply.error.code === '7001') return null;
      throw o.reply.error;
    }
    return toUpdate(o.reply.json, gatewayRef ? ref : undefined);
  }

  /**
   * By the gateway's reference: transaction-status (documented to take the reference it
   * returned). By ours: the verify endpoint, which the documentation says checks "any
   * transaction reference" (docs/gateways.md, "Whose reference"); its "not found" proves nothing.
   */
  async function lookup(q: { gatewayRef?: string; reference: string }, priority?: CallOptions['priority']): Promise<Lookup> {
    // The lookup has its own budget (not GATEWAY_TIMEOUT_MS): a slow gateway may need it all.
    const budget = { signal: AbortSignal.timeout(c.GATEWAY_LOOKUP_TIMEOUT_MS), deadline: Date.now() + c.GATEWAY_LOOKUP_TIMEOUT_MS };
    const u = q.gatewayRef
      ? await lookupCall(ENDPOINTS.transactionStatus, q.gatewayRef, true, budget, priority)
      : await lookupCall(ENDPOINTS.verify, q.reference, false, budget, priority);
    return u ? { kind: 'found', update: u } : { kind: 'not_found', proof: false };
  }

  /** After an unknown outcome of our own call: found under our reference, or null. */
  async function findOurs(reference: string, priority?: CallOptions['priority']): Promise<TransactionUpdate | null> {
    try {
      const l = await lookup({ reference }, priority);
      return l.kind === 'found' ? l.update : null;
    } catch {
      return null;
    }
  }

  async function money<Req>(ep: Endpoint<Req>, req: Req, opts: CallOptions): Promise<GatewayResult> {
    const reference = opts.reference;
    const o: Outcome = await exchange(deps, ep, req, {
      reference,
      ...(opts.offlineMode ? { offlineMode: true } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.priority ? { priority: opts.priority } : {}),
      ...(opts.beforeSend ? { beforeSend: opts.beforeSend } : {}),
    });
    if (o.type === 'unsent') return { kind: 'failed', reference, error: o.error };
    if (o.type === 'unknown') {
      const found = await findOurs(reference, opts.priority);
      if (found) return resultFromUpdate(found, reference);
      return { kind: 'unknown', reference, error: o.error };
    }
    const r = o.reply;
    if (r.ok) return toResult(r.json, reference);
    if (DUPLICATE_CODES.has(r.error.code)) {
      // "Already received": the earlier transmission (ours after a resend, or the caller's own
      // repeat of this reference) decides the outcome, not this answer.
      const found = await findOurs(reference, opts.priority);
      if (found) return resultFromUpdate(found, reference);
      if (o.sentAttempts > 1) return { kind: 'unknown', reference, error: r.error, raw: r.json };
    }
    const gatewayRef = r.json ? (str(r.json.merchant_reference) ?? str(r.json.transactionId)) : undefined;
    return { kind: 'failed', reference, ...(gatewayRef ? { gatewayRef } : {}), error: r.error, ...(r.json ? { raw: r.json } : {}) };
  }

  async function query<Req>(ep: Endpoint<Req>, req: Req) {
    const o = await exchange(deps, ep, req);
    if (o.type !== 'reply') throw o.error;
    if (!o.reply.ok) throw o.reply.error;
    return o.reply.json;
  }

  return {
    name: 'kyanda',
    capabilities: KYANDA_CAPABILITIES,
    lookup,
    balance: async () => toBalance(await query(ENDPOINTS.balance, undefined)),
    transactionStatus: (ref) => lookupCall(ENDPOINTS.transactionStatus, ref, true),
    verifyTransaction: (ref) => lookupCall(ENDPOINTS.verify, ref, true),
    airtime: (req, opts) => money(ENDPOINTS.airtime, req, opts),
    pinAirtime: (req, opts) => money(ENDPOINTS.pinAirtime, req, opts),
    payBill: (req, opts) => money(ENDPOINTS.bill, req, opts),
    checkout: (req, opts) => money(ENDPOINTS.checkout, req, opts),
    mobilePayout: (req, opts) => money(ENDPOINTS.mobilePayout, req, opts),
    bankPayout: (req, opts) => money(ENDPOINTS.bankPayout, req, opts),
    b2b: (req, opts) => money(ENDPOINTS.b2b, req, opts),
    upiTransfer: (req, opts) => money(ENDPOINTS.upiTransfer, req, opts),
    sendSms: (req, opts) => money(ENDPOINTS.sms, req, opts),
    bulkSms: (req, opts) => money(ENDPOINTS.bulkSms, req, opts),
    async registerCallback(url) {
      const o = await exchange(deps, ENDPOINTS.registerCallback, url);
      if (o.type !== 'reply') return { kind: 'failed', reference: url, error: o.error };
      if (!o.reply.ok) return { kind: 'failed', reference: url, error: o.reply.error, ...(o.reply.json ? { raw: o.reply.json } : {}) };
      return toResult(o.reply.json, url);
    },
    async telcoCheck(prefix) {
      // Accept "0722" / "722"; the API takes the 3 digits after the leading 0.
      const p = prefix
        .trim()
        .replace(/^\+?254/, '')
        .replace(/^0/, '')
        .slice(0, 3);
      if (!/^\d{3}$/.test(p)) return null;
      try {
        const j = await query(ENDPOINTS.telcoCheck, p);
        const telco = str(j.telco);
        return telco ? { telco } : null;
      } catch (e) {
        if (e instanceof GatewayError && TELCO_NOT_FOUND.has(e.code)) return null;
        throw e;
      }
    },
    parseCallback: (headers, rawBody) =>
      parseIpn(headers, rawBody, {
        header: c.GATEWAY_SIGNATURE_HEADER,
        webhookHeader: c.GATEWAY_WEBHOOK_SIGNATURE_HEADER,
        secret: c.GATEWAY_WEBHOOK_SECRET,
        required: c.IPN_SIGNATURE === 'required',
      }),
    close: () => transport.close(),
  };
}
