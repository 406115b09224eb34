// Reading the gateway's answers (INIT, STATUS, callbacks) into our types.
// The 5.7.3 reference's rule: `status` says where the operation is; result.code only says whether the
// request itself was understood ("result.code === 0 for status 8 is not success").
import type { GatewayResult, TransactionUpdate } from '../types.js';
import { pagErrors } from './errors.js';
import { PAG_STATUS, parseAmount } from './wire.js';

export interface PagReply {
  order_id?: string;
  transaction_id?: string;
  transaction_ref?: string;
  status?: number | string;
  result?: { code?: number | string; message?: string };
  provider_result?: { code?: number | string; message?: string };
  confirm_type?: number | string;
  /** STATUS answers for status 8: the fields still needed and, per field, an array of messages. */
  action?: { fields?: Record<string, unknown>; errors?: Record<string, unknown> };
  pp_url?: string;
  amount?: string;
  currency?: string;
  customer_id?: string;
  [k: string]: unknown;
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function asReply(v: unknown): PagReply | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as PagReply) : null;
}

export function resultCode(r: PagReply): number | undefined {
  return num(r.result?.code);
}

function providerMessage(r: PagReply): string {
  return str(r.provider_result?.message) ?? str(r.result?.message) ?? '';
}

function details(r: PagReply): Record<string, string> {
  const d: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    const s = str(v);
    if (s !== undefined) d[k] = s;
  };
  put('transaction_ref', r.transaction_ref);
  put('provider_code', r.provider_result?.code);
  put('provider_message', r.provider_result?.message);
  put('confirm_type', r.confirm_type);
  put('pp_url', r.pp_url);
  return d;
}

/** An INIT or STATUS answer (HTTP 2xx, result.code 0 unless status 8) as a GatewayResult. */
export function toResult(r: PagReply, reference: string): GatewayResult {
  const gatewayRef = str(r.transaction_id);
  const ref = gatewayRef ? { gatewayRef } : {};
  const status = num(r.status);
  const code = resultCode(r);
  if (status === PAG_STATUS.DATA_REQUIRED) {
    // Not a failure and not under way: nothing happens until STATUS brings the missing `extra`
    // (PagGateway.requiredFields / submitExtra). pagNeedsData(result) tells callers.
    return { kind: 'accepted', reference, ...ref, message: 'data required (status 8)', raw: r };
  }
  if (code !== undefined && code !== 0) {
    return { kind: 'failed', reference, ...ref, error: pagErrors.result(code, str(r.result?.message) ?? ''), raw: r };
  }
  const confirm = num(r.confirm_type) ?? 0;
  switch (status) {
    case PAG_STATUS.INITIATED:
      return { kind: 'accepted', reference, ...ref, message: confirm ? `confirmation required (confirm_type ${confirm})` : 'initiated', raw: r };
    case PAG_STATUS.IN_PROGRESS:
      if (confirm) return { kind: 'accepted', reference, ...ref, message: `confirmation required (confirm_type ${confirm})`, raw: r };
      return { kind: 'pending', reference, gatewayRef: gatewayRef ?? str(r.order_id) ?? reference, message: providerMessage(r), raw: r };
    case PAG_STATUS.SUCCESS:
      return { kind: 'succeeded', reference, ...ref, message: providerMessage(r), details: details(r), raw: r };
    case PAG_STATUS.FAILED:
      return { kind: 'failed', reference, ...ref, error: pagErrors.failed(providerMessage(r)), raw: r };
    case PAG_STATUS.CANCELLED:
      return { kind: 'failed', reference, ...ref, error: pagErrors.cancelled(providerMessage(r)), raw: r };
    default:
      return { kind: 'unknown', reference, error: pagErrors.unknownStatus(r.status), raw: r };
  }
}

/** True when the result is a status-8 "data required" answer. */
export function pagNeedsData(result: GatewayResult): boolean {
  return num(asReply(result.raw)?.status) === PAG_STATUS.DATA_REQUIRED;
}

/** True when a payout answer carries a non-zero confirm_type (the confirmation step is due). */
export function pagNeedsConfirmation(result: GatewayResult): boolean {
  return (num(asReply(result.raw)?.confirm_type) ?? 0) !== 0;
}

/**
 * A STATUS answer or a callback as a TransactionUpdate. 0, 1 and 8 are "pending"; -1 (undefined
 * state) is also "pending", so reconciliation asks again instead of refunding on a guess.
 * A callback without `status` (the documented sample has none, only `result`, which says whether
 * a request was understood, not whether money moved) is "pending" too: it only triggers a
 * STATUS call, and that answer decides.
 */
export function toUpdate(r: PagReply, fallbackRef: string): TransactionUpdate {
  let status: TransactionUpdate['status'];
  const s = num(r.status);
  if (s === undefined) status = 'pending';
  else if (s === PAG_STATUS.SUCCESS) status = 'succeeded';
  else if (s === PAG_STATUS.FAILED) status = 'failed';
  else if (s === PAG_STATUS.CANCELLED) status = 'cancelled';
  else status = 'pending';
  const amountMinor = parseAmount(r.amount);
  const customer = str(r.customer_id);
  const currency = str(r.currency);
  return {
    gateway: 'pag',
    gatewayRef: str(r.transaction_id) ?? str(r.order_id) ?? fallbackRef,
    reference: str(r.order_id) ?? fallbackRef,
    status,
    code: s === undefined ? `result:${str(r.result?.code) ?? ''}` : String(s),
    message: providerMessage(r),
    ...(amountMinor !== null ? { amountMinor } : {}),
    ...(currency ? { currency } : {}),
    ...(customer ? { source: customer } : {}),
    details: details(r),
    raw: r,
  };
}

/** TransactionUpdate → GatewayResult, for outcomes found by a lookup after an unknown answer. */
export function resultFromUpdate(u: TransactionUpdate, reference: string): GatewayResult {
  return toResult(u.raw as PagReply, reference);
}
