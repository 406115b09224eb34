// The aggregator's side of a hop, on Africa's Talking's wire: a form POST with the cumulative
// `text`. Like a real aggregator it gives up on a reply after a few seconds and then resends
// the same request once; whatever comes back last is what the handset shows.
export interface HopResult {
  /** The body the handset shows ("CON …" / "END …"), or undefined when nothing came back. */
  reply?: string;
  /** Why nothing came back (timeout, HTTP status, connection error). */
  error?: string;
  ms: number;
}

export const SERVICE_CODE = '*860*30#';
/** Africa's Talking drops a reply after about 5 s; a little more so a reply at the deadline counts. */
const GIVE_UP_MS = 6_000;

export async function postHop(url: string, sessionId: string, phone: string, text: string): Promise<HopResult> {
  const t = Date.now();
  const form = new URLSearchParams({ sessionId, serviceCode: SERVICE_CODE, phoneNumber: phone, networkCode: '63902', text });
  try {
    const r = await fetch(`${url}/ussd`, {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(GIVE_UP_MS),
    });
    const body = await r.text();
    if (r.status !== 200) return { error: `HTTP ${r.status}`, ms: Date.now() - t };
    return { reply: body, ms: Date.now() - t };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { error: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message), ms: Date.now() - t };
  }
}

/** A hop as the aggregator runs it: one resend of the same request when the first got nothing. */
export async function aggregatorHop(url: string, sessionId: string, phone: string, text: string): Promise<HopResult & { resent: boolean }> {
  const first = await postHop(url, sessionId, phone, text);
  if (first.reply !== undefined) return { ...first, resent: false };
  const second = await postHop(url, sessionId, phone, text);
  return { ...second, ms: first.ms + second.ms, resent: true };
}

/** What a reply told the subscriber, in the terms the checks use. */
export type Told = 'prompt' | 'processing' | 'failed' | 'try_again' | 'busy' | 'cancelled' | 'float_ok' | 'ended' | 'screen' | 'no_reply' | 'other';

export function told(reply: string | undefined): Told {
  if (reply === undefined) return 'no_reply';
  if (reply.startsWith('CON ')) return 'screen';
  if (/M-PESA prompt/.test(reply)) return 'prompt';
  if (/processing your request/i.test(reply)) return 'processing';
  if (/could not be completed/.test(reply)) return 'failed';
  // "Still being handled": true while another request of the session runs; it promises nothing.
  if (/still being handled/i.test(reply)) return 'busy';
  if (/try again|temporarily unavailable/i.test(reply)) return 'try_again';
  if (/^END Cancelled/.test(reply)) return 'cancelled';
  if (/^END (Sent|Paid) .*Ref K/.test(reply)) return 'float_ok';
  if (/ended|not available/i.test(reply)) return 'ended';
  return 'other';
}
