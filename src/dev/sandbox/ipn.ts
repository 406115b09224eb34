// IPN and webhook delivery: signed POSTs to the merchant's URL, never inside the request that
// caused them, retried on the documented schedule (docs/gateways.md, "Retries": 1 min → 5 min →
// 15 min → 1 h → 6 h), scaled by SANDBOX_IPN_TIME_SCALE. Signature: HMAC-SHA256 of the raw body
// with the webhook secret, lowercase hex, under GATEWAY_SIGNATURE_HEADER (IPNs) or
// GATEWAY_WEBHOOK_SIGNATURE_HEADER (webhook events); none at all while `unsigned` is set.
import { Agent, request } from 'undici';
import type { Logger } from '../../log.js';
import { hmacHex } from './wire.js';

export const RETRY_SCHEDULE_MS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000] as const;
/** The merchant must answer within 10 seconds (docs/gateways.md, "IPN"). */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface IpnAttempt {
  at: string;
  /** HTTP status, or null on a network error / timeout. */
  status: number | null;
  error?: string;
}

export interface IpnDelivery {
  id: number;
  /** An IPN (transaction status change) or a webhook event. */
  kind: 'ipn' | 'webhook';
  /** Webhook event name ("payment.success", …). */
  event?: string;
  /** False when sent without a signature header (the `unsignedIpn` fault). */
  signed: boolean;
  transactionRef: string;
  url: string;
  body: Record<string, unknown>;
  state: 'pending' | 'delivered' | 'failed';
  attempts: IpnAttempt[];
  /** ISO time of the next scheduled attempt while pending. */
  nextAt?: string;
}

export interface IpnOptions {
  secret: string;
  /** Signature header of IPNs. */
  header: string;
  /** Signature header of webhook events. */
  webhookHeader: string;
  timeScale: number;
  logger: Logger;
}

export interface SendOptions {
  kind?: 'ipn' | 'webhook';
  event?: string;
  /** First attempt after this many ms (0 = next tick, never inline). */
  delayMs?: number;
}

export class IpnDispatcher {
  private deliveries: IpnDelivery[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private inflight = new Set<AbortController>();
  private seq = 0;
  private stopped = false;
  /** The `unsignedIpn` fault: deliveries queued while set carry no signature header. */
  unsigned = false;
  // Own pool, no keep-alive: an idle IPN connection to our own server (embedded) would hold
  // server.close() open until the server's keep-alive timeout.
  private readonly agent = new Agent({ keepAliveTimeout: 1, connections: 16 });

  constructor(private readonly opts: IpnOptions) {}

  list(): IpnDelivery[] {
    return this.deliveries;
  }

  /** Queues a delivery; the first attempt runs after `delayMs` (0 = next tick, never inline). */
  send(url: string, body: Record<string, unknown>, opts: SendOptions = {}): IpnDelivery {
    const d: IpnDelivery = {
      id: ++this.seq,
      kind: opts.kind ?? 'ipn',
      ...(opts.event ? { event: opts.event } : {}),
      signed: !this.unsigned,
      transactionRef: String(body.transactionRef ?? ''),
      url,
      body,
      state: 'pending',
      attempts: [],
    };
    this.deliveries.push(d);
    this.schedule(d, opts.delayMs ?? 0);
    return d;
  }

  private schedule(d: IpnDelivery, delayMs: number): void {
    if (this.stopped) return;
    d.nextAt = new Date(Date.now() + delayMs).toISOString();
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.attempt(d);
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  private async attempt(d: IpnDelivery): Promise<void> {
    if (this.stopped) return;
    const raw = JSON.stringify(d.body);
    const ac = new AbortController();
    this.inflight.add(ac);
    const timer = setTimeout(() => ac.abort(), DELIVERY_TIMEOUT_MS);
    timer.unref();
    const attempt: IpnAttempt = { at: new Date().toISOString(), status: null };
    try {
      const res = await request(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(d.signed ? { [d.kind === 'webhook' ? this.opts.webhookHeader : this.opts.header]: hmacHex(raw, this.opts.secret) } : {}),
        },
        body: raw,
        signal: ac.signal,
        dispatcher: this.agent,
        reset: true,
        headersTimeout: DELIVERY_TIMEOUT_MS,
        bodyTimeout: DELIVERY_TIMEOUT_MS,
      });
      attempt.status = res.statusCode;
      await res.body.dump().catch(() => undefined);
    } catch (err) {
      const e = err as Error & { code?: string };
      attempt.error = e.name === 'AbortError' || ac.signal.aborted ? 'timeout' : (e.code ?? e.message) || 'network error';
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
    if (this.stopped) return;
    d.attempts.push(attempt);
    delete d.nextAt;
    if (attempt.status === 200) {
      d.state = 'delivered';
      this.opts.logger.info({ ipn: d.id, kind: d.kind, event: d.event, ref: d.transactionRef, attempts: d.attempts.length }, 'sandbox ipn delivered');
      return;
    }
    const retryNo = d.attempts.length - 1; // 0 after the first attempt
    const next = RETRY_SCHEDULE_MS[retryNo];
    if (next === undefined) {
      d.state = 'failed';
      this.opts.logger.warn({ ipn: d.id, ref: d.transactionRef, attempts: d.attempts.length }, 'sandbox ipn gave up');
      return;
    }
    const delay = Math.max(1, Math.round(next * this.opts.timeScale));
    this.opts.logger.info({ ipn: d.id, ref: d.transactionRef, status: attempt.status, error: attempt.error, retryInMs: delay }, 'sandbox ipn retry scheduled');
    this.schedule(d, delay);
  }

  /** Drops the queue and history (POST /_reset). */
  reset(): void {
    this.clearTimers();
    this.deliveries = [];
    this.unsigned = false;
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    void this.agent.destroy().catch(() => undefined);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ac of this.inflight) ac.abort();
    this.inflight.clear();
  }
}
