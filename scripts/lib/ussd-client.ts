// Speaks to the service as an aggregator does, one request per screen, in the wire format of the
// chosen channel (scripts/lib/channel-wire.ts): Africa's Talking by default (a form POST with
// `text` carrying every answer so far joined by "*", reply "CON …"/"END …").
// Used by `npm run dial` and its tests; the benchmark has its own undici Pool for speed.
import { randomUUID } from 'node:crypto';
import type { WireSession } from './channel-wire.js';

export interface DialTarget {
  /** Base URL of the service, e.g. http://127.0.0.1:3000 */
  url: string;
  /** "africastalking" posts to /ussd; any other channel speaks its own format at /ussd/<name>. */
  channel: string;
  serviceCode: string;
  phoneNumber: string;
  networkCode: string;
  timeoutMs: number;
}

export type HopOutcome =
  | { kind: 'screen'; continues: boolean; text: string; ms: number }
  | { kind: 'http_error'; status: number; statusText: string; body: string; ms: number }
  | { kind: 'bad_reply'; problem: string; body: string; ms: number }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'timeout'; ms: number };

export function routeOf(target: Pick<DialTarget, 'url' | 'channel'>): string {
  const base = target.url.replace(/\/+$/, '');
  return target.channel === 'africastalking' ? `${base}/ussd` : `${base}/ussd/${encodeURIComponent(target.channel)}`;
}

export function newSessionId(channel = 'africastalking'): string {
  // Africa's Talking ids look like ATUid_<hex>; the prefix makes dial sessions easy to spot in logs.
  const hex = randomUUID().replace(/-/g, '');
  return channel === 'africastalking' ? `ATUid_dial_${hex}` : `dial-${hex}`;
}

/**
 * Africa's Talking sends E.164 (+2547…). A Kenyan 07…/01… number is converted so the service
 * sees what it would see in production; anything else is sent as typed, to test bad input.
 */
export function aggregatorPhone(phone: string): string {
  const p = phone.replace(/[\s-]/g, '');
  if (/^0[17]\d{8}$/.test(p)) return `+254${p.slice(1)}`;
  if (/^254[17]\d{8}$/.test(p)) return `+${p}`;
  return phone;
}

/**
 * Splits a dialled string into the registered service code and the dial-in answers, as the
 * aggregator does: with base *860*30#, "*860*30*1*2#" is serviceCode *860*30# and text "1*2".
 */
export function splitDialled(dialled: string, base: string): { serviceCode: string; answers: string[] } {
  const stem = base.replace(/#$/, '');
  if (dialled.startsWith(`${stem}*`) && dialled.endsWith('#')) {
    const rest = dialled.slice(stem.length + 1, -1);
    return { serviceCode: base, answers: rest === '' ? [] : rest.split('*') };
  }
  return { serviceCode: dialled, answers: [] };
}

/** One request of a session: `typed` are the answers typed so far; the channel decides what it sends. */
export async function exchange(target: DialTarget, wire: WireSession, typed: string[], signal?: AbortSignal): Promise<HopOutcome> {
  const call = wire.call(typed);
  const url = new URL(call.path, `${target.url.replace(/\/+$/, '')}/`);
  for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  let body: string | URLSearchParams | undefined;
  if (call.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(call.form);
  } else if (call.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.json);
  }
  const startedAt = performance.now();
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: call.method, headers, ...(body !== undefined ? { body } : {}), signal: both });
    text = await res.text();
  } catch (err) {
    if (timeout.aborted) return { kind: 'timeout', ms: Math.round(performance.now() - startedAt) };
    if (signal?.aborted) throw err;
    return { kind: 'unreachable', reason: describeFetchError(err) };
  }
  const ms = Math.round(performance.now() - startedAt);
  if (res.status !== 200) return { kind: 'http_error', status: res.status, statusText: res.statusText, body: text, ms };
  const r = wire.read(res.status, res.headers, text);
  if (!r.ok) return { kind: 'bad_reply', problem: r.problem, body: text, ms };
  return { kind: 'screen', continues: r.continues, text: r.text, ms };
}

function describeFetchError(err: unknown): string {
  // fetch wraps the socket error in `cause`: ECONNREFUSED, ENOTFOUND, ECONNRESET…
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? `: ${cause.message}` : ''}`;
  return cause?.message ?? (err as Error)?.message ?? String(err);
}
