// Demand above the gateway's allowance, as one phase of the run: the account's per-minute
// window is squeezed to a few free slots (as if other traffic on the same API key had used the
// rest) while a bulk SMS campaign and the purchases compete for what is left. Its record: the
// backlog and the oldest wait seen in /metrics, and the campaign, which must finish in full.
import type { Redis } from 'ioredis';

export const API_TOKEN = 'chaos-api-token-0123456789abcdef';

export interface AllowanceReport {
  free: number;
  startedAt: number;
  endedAt: number;
  /** Gateway requests during the phase: bulk batches, and everything else (money, lookups, receipts). */
  sentDuring?: { bulk: number; other: number };
  campaign?: string;
  recipients: number;
  maxWaiting: number;
  maxOldestWaitS: number;
  samples: number;
  /** What each failed try to start the campaign was answered (an empty list when the first try worked). */
  startErrors: string[];
}

async function limiterKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys = await redis.keys(`${prefix}*ratelimit:kyanda:*`);
  return keys.filter((k) => !k.endsWith(':day') && !k.includes(':wait:'));
}

function gauge(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Runs the phase until `untilMs` (epoch ms); resolves with what it saw. */
export async function allowancePhase(o: {
  redis: Redis;
  prefix: string;
  limit: number;
  free: number;
  balancerUrl: string;
  recipients: number;
  untilMs: number;
}): Promise<AllowanceReport> {
  const rep: AllowanceReport = {
    free: o.free,
    startedAt: Date.now(),
    endedAt: 0,
    recipients: o.recipients,
    maxWaiting: 0,
    maxOldestWaitS: 0,
    samples: 0,
    startErrors: [],
  };
  const recipients = Array.from({ length: o.recipients }, (_, i) => `07${String(30_000_000 + i).padStart(8, '0')}`);
  // An instance down or Redis stalled right now: the operator tries again with the same key,
  // for up to 40 s (a key whose first request died is free again within seconds, see
  // src/sms/bulk-guard.ts).
  const body = JSON.stringify({ message: `Chaos promo ${Date.now()}: 10% off airtime today`, recipients });
  const idem = `chaos-${Date.now()}`;
  const giveUpAt = Date.now() + 40_000;
  while (!rep.campaign && Date.now() < giveUpAt) {
    const r = await fetch(`${o.balancerUrl}/api/sms/bulk`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': idem },
      // The service may take ~20 s to write an accepted campaign through a Redis stall.
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined);
    const text = r ? await r.text().catch(() => '') : '';
    const answer = (() => {
      try {
        return JSON.parse(text) as { id?: string; error?: string; duplicateOf?: string };
      } catch {
        return {};
      }
    })();
    if (r && (r.status === 202 || r.status === 200)) rep.campaign = answer.id;
    // An earlier try of ours went through after all, but its answer was lost and its key freed:
    // the same list again is refused as a duplicate of that campaign, which is the one to follow.
    else if (r?.status === 409 && answer.error === 'DUPLICATE_CAMPAIGN' && answer.duplicateOf) rep.campaign = answer.duplicateOf;
    if (!rep.campaign) {
      rep.startErrors.push(r ? `HTTP ${r.status} ${text.slice(0, 160)}` : 'no answer');
      // As an operator's client would: wait as long as Retry-After says (409 in progress), capped.
      const after = Math.min(5, Number(r?.headers.get('retry-after') ?? 1) || 1);
      await new Promise((res) => setTimeout(res, after * 1000));
    }
  }
  let seq = 0;
  const phantoms: Array<[string, string[]]> = [];
  while (Date.now() < o.untilMs) {
    try {
      for (const key of await limiterKeys(o.redis, o.prefix)) {
        const now = Date.now();
        const used = await o.redis.zcount(key, now - 60_000, '+inf');
        const want = o.limit - o.free - used;
        if (want > 0) {
          const args: Array<string | number> = [];
          for (let i = 0; i < want; i++) args.push(now, `phantom-${now}-${seq++}`);
          await o.redis.zadd(key, ...args);
          phantoms.push([key, args.filter((_, i) => i % 2 === 1) as string[]]);
        }
      }
      const m = await (await fetch(`${o.balancerUrl}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
      rep.maxWaiting = Math.max(rep.maxWaiting, gauge(m, 'payments_waiting_for_gateway'));
      rep.maxOldestWaitS = Math.max(rep.maxOldestWaitS, gauge(m, 'payments_gateway_wait_oldest_seconds'));
      rep.samples++;
    } catch {
      /* Redis stalled or an instance down: try again next tick */
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
  rep.endedAt = Date.now();
  // The other traffic stops: its entries leave the window now rather than a minute later.
  for (const [key, members] of phantoms) await o.redis.zrem(key, ...members).catch(() => 0);
  return rep;
}

/** The campaign's totals once everything settled: every recipient sent, none dropped. */
export async function campaignTotals(balancerUrl: string, id: string): Promise<{ state: string; valid: number; sent: number; failed: number } | undefined> {
  const r = await fetch(`${balancerUrl}/api/sms/bulk/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } }).catch(() => undefined);
  if (r?.status !== 200) return undefined;
  const j = (await r.json()) as { state: string; totals: { valid?: number; recipientsSent: number; recipientsFailed: number } };
  return { state: j.state, valid: j.totals.valid ?? 0, sent: j.totals.recipientsSent, failed: j.totals.recipientsFailed };
}
