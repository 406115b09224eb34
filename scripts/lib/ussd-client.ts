// Speaks to the service as Africa's Talking does: one form POST per screen, `text` carrying every
// answer so far joined by "*", reply text/plain "CON …" (more to come) or "END …" (session over).
// Used by `npm run dial` and its tests; the benchmark has its own undici Pool for speed.
import { randomUUID } from 'node:crypto';

export interface DialTarget {
  /** Base URL of the service, e.g. http://127.0.0.1:3000 */
  url: string;
  /** "africastalking" posts to /ussd; any other name to /ussd/<name> (same wire format). */
  channel: string;
  serviceCode: string;
  phoneNumber: string;
  networkCode: string;
  timeoutMs: number;
}

export type HopOutcome =
  | { kind: 'screen'; continues: boolean; text: string; ms: number }
  | { kind: 'http_error'; status: number; statusText: string; body: string; ms: number }
  | { kind: 'bad_reply'; body: string; ms: number }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'timeout'; ms: number };

export function routeOf(target: Pick<DialTarget, 'url' | 'channel'>): string {
  const base = target.url.replace(/\/+$/, '');
  return target.channel === 'africastalking' ? `${base}/ussd` : `${base}/ussd/${encodeURIComponent(target.channel)}`;
}

export function newSessionId(): string {
  // Africa's Talking ids look like ATUid_<hex>; the prefix makes dial sessions easy to spot in logs.
  return `ATUid_dial_${randomUUID().replace(/-/g, '')}`;
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

/** One request of a session: `answers` are every answer so far (cumulative, AT style). */
export async function postHop(target: DialTarget, sessionId: string, answers: string[], signal?: AbortSignal): Promise<HopOutcome> {
  const form = new URLSearchParams({
    sessionId,
    serviceCode: target.serviceCode,
    phoneNumber: target.phoneNumber,
    networkCode: target.networkCode,
    text: answers.join('*'),
  });
  const startedAt = performance.now();
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  let body: string;
  try {
    res = await fetch(routeOf(target), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      signal: both,
    });
    body = await res.text();
  } catch (err) {
    if (timeout.aborted) return { kind: 'timeout', ms: Math.round(performance.now() - startedAt) };
    if (signal?.aborted) throw err;
    return { kind: 'unreachable', reason: describeFetchError(err) };
  }
  const ms = Math.round(performance.now() - startedAt);
  if (res.status !== 200) return { kind: 'http_error', status: res.status, statusText: res.statusText, body, ms };
  const m = /^(CON|END)(?: |$)/.exec(body);
  if (!m) return { kind: 'bad_reply', body, ms };
  return { kind: 'screen', continues: m[1] === 'CON', text: body.slice(m[0].length), ms };
}

function describeFetchError(err: unknown): string {
  // fetch wraps the socket error in `cause`: ECONNREFUSED, ENOTFOUND, ECONNRESET…
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? `: ${cause.message}` : ''}`;
  return cause?.message ?? (err as Error)?.message ?? String(err);
}
