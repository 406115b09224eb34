// Reading the gateway's answers. Decisions go by status_code, not HTTP status (docs/gateways.md, "Platform codes");
// HTTP status is only the fallback when the body carries no code.
import type { GatewayError, GatewayResult, Balance, TransactionUpdate } from '../types.js';
import type { HttpResponse } from '../http/index.js';
import { kyandaError, KYANDA_CODES } from './codes.js';
import { toTransactionUpdate } from './update.js';

export type Json = Record<string, unknown>;

export type Reply =
  | { ok: true; json: Json; http: number }
  | {
      ok: false;
      error: GatewayError;
      json: Json | undefined;
      http: number;
      /**
       * No platform code and HTTP 2xx/5xx (a proxy's 502/504 page, an unreadable 200): the
       * request may well have been processed. Money calls treat this as an unknown outcome.
       */
      ambiguous?: boolean;
    };

// Codes and statuses that are not errors: processed, created/pending, the samples' "200".
const OK_CODES = new Set(['0000', '1100', '200']);
const HTTP_FALLBACK: Record<number, string> = { 401: '1102', 403: '1103', 404: '7001' };

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** `message`, else the deprecated `transactiontxt`. */
export function messageOf(j: Json | undefined): string | undefined {
  return j ? (str(j.message) ?? str(j.transactiontxt)) : undefined;
}

export function interpret(res: HttpResponse): Reply {
  const json = res.json && typeof res.json === 'object' && !Array.isArray(res.json) ? (res.json as Json) : undefined;
  const code = json ? str(json.status_code) : undefined;
  const status = json ? str(json.status) : undefined;
  if (code !== undefined && KYANDA_CODES[code] && !OK_CODES.has(code))
    return { ok: false, error: kyandaError(code, messageOf(json), res.status), json, http: res.status };
  const known = code !== undefined && KYANDA_CODES[code] !== undefined;
  if (known && status?.toLowerCase() === 'failed')
    return { ok: false, error: kyandaError(code === '0000' ? '5000' : code, messageOf(json), res.status), json, http: res.status };
  if (res.status >= 200 && res.status < 300 && json && (known || code === '200' || code === undefined) && status?.toLowerCase() !== 'failed') {
    return { ok: true, json, http: res.status };
  }
  if (res.status >= 500) {
    // A 5xx without a platform code: retry-worthy for reads, unknown outcome for money.
    return { ok: false, error: kyandaError('1105', `HTTP ${res.status}${code ? ` code ${code}` : ''}`, res.status), json, http: res.status, ambiguous: true };
  }
  if (res.status >= 200 && res.status < 300) {
    return { ok: false, error: kyandaError('BAD_RESPONSE', `HTTP ${res.status} unreadable answer`, res.status), json, http: res.status, ambiguous: true };
  }
  const fallback = HTTP_FALLBACK[res.status] ?? code ?? 'BAD_RESPONSE';
  return { ok: false, error: kyandaError(fallback, `HTTP ${res.status}`, res.status), json, http: res.status };
}

function details(j: Json): Record<string, string> | undefined {
  const d = j.details;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    const s = str(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** An accepted money/SMS answer → our result. */
export function toResult(j: Json, reference: string): GatewayResult {
  const status = (str(j.status) ?? '').toLowerCase();
  const code = str(j.status_code);
  const gatewayRef = str(j.merchant_reference) ?? str(j.transactionId) ?? str(j.transactionRef);
  const message = messageOf(j);
  const base = { reference, ...(message !== undefined ? { message } : {}), raw: j };
  if (status === 'queued') return { kind: 'accepted', ...base, ...(gatewayRef ? { gatewayRef } : {}) };
  // Samples send status_code "200" with Pending; v2 sends "1100": both are pending.
  if (status === 'pending' || status === 'processing' || code === '1100' || code === '200') {
    return gatewayRef ? { kind: 'pending', ...base, gatewayRef } : { kind: 'accepted', ...base };
  }
  if (status === 'success' || code === '0000') {
    const d = details(j);
    return { kind: 'succeeded', ...base, ...(gatewayRef ? { gatewayRef } : {}), ...(d ? { details: d } : {}) };
  }
  return { kind: 'failed', reference, ...(gatewayRef ? { gatewayRef } : {}), error: kyandaError('BAD_RESPONSE', `status ${status}`), raw: j };
}

/** A lookup's view of a transaction → the result the original call would have had. */
export function resultFromUpdate(u: TransactionUpdate, reference: string): GatewayResult {
  const base = { reference, gatewayRef: u.gatewayRef, raw: u.raw };
  switch (u.status) {
    case 'succeeded':
      return { kind: 'succeeded', ...base, message: u.message, details: u.details };
    case 'pending':
      return { kind: 'pending', ...base, message: u.message };
    default:
      return { kind: 'failed', ...base, error: kyandaError(u.code && u.code !== '0000' ? u.code : '5000', u.message || u.status) };
  }
}

/** KES numbers (399930, 1586.6) → minor units. */
export function toBalance(j: Json): Balance {
  const minor = (v: unknown) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw kyandaError('BAD_RESPONSE', 'balance missing');
    return Math.round(n * 100);
  };
  return { floatMinor: minor(j.Account_Bal), earningsMinor: j.Earnings_Bal === undefined ? 0 : minor(j.Earnings_Bal) };
}

/**
 * Status/verify answer: the record is under `details` (docs/gateways.md); tolerate it at top
 * level. `askedRef`: the gateway's reference asked for, naming a record that omits it.
 */
export function toUpdate(j: Json, askedRef?: string): TransactionUpdate | null {
  const rec = j.details && typeof j.details === 'object' && 'status' in (j.details as object) ? j.details : j;
  return toTransactionUpdate(rec, j, askedRef);
}
