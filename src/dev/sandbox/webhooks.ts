// Webhook events (docs/gateways.md, "Webhook events"): a merchant subscribes to some of the six
// documented events and receives each as a signed POST. Body: the event name, an event id, then
// the transaction record exactly as the IPN carries it. They go to SANDBOX_WEBHOOK_URL, else to
// the registered IPN callback URL; delivery, signature and retries are the IPN dispatcher's
// (header GATEWAY_WEBHOOK_SIGNATURE_HEADER).
import type { Logger } from '../../log.js';
import type { IpnDispatcher } from './ipn.js';
import { parseEvents, WEBHOOK_EVENTS, type WebhookEvent } from '../../gateway/kyanda/webhook-events.js';

export interface WebhookDeps {
  ipn: IpnDispatcher;
  logger: Logger;
  /** SANDBOX_WEBHOOK_EVENTS. */
  events: string;
  /** SANDBOX_WEBHOOK_URL. */
  url: string | undefined;
  /** The registered IPN callback URL (read at send time). */
  callbackUrl(): string | null;
}

export class Webhooks {
  private subscribed: Set<WebhookEvent>;
  private url: string | null;
  private seq = 0;

  constructor(private readonly deps: WebhookDeps) {
    this.subscribed = this.configured();
    this.url = deps.url ?? null;
  }

  private configured(): Set<WebhookEvent> {
    const p = parseEvents(this.deps.events);
    return p.ok ? p.events : new Set();
  }

  /** GET/POST /sandbox/_webhooks. */
  state(): { events: WebhookEvent[]; url: string | null } {
    return { events: WEBHOOK_EVENTS.filter((e) => this.subscribed.has(e)), url: this.url };
  }

  /** Changes the subscription (`events`) and/or the destination (`url`, null = the callback URL). */
  set(body: Record<string, unknown>): { ok: true } | { ok: false; error: string } {
    let events = this.subscribed;
    let url = this.url;
    if ('events' in body) {
      const p = parseEvents(body.events);
      if (!p.ok) return p;
      events = p.events;
    }
    if ('url' in body) {
      if (body.url === null) url = null;
      else if (typeof body.url === 'string' && /^https?:\/\/\S+$/.test(body.url)) url = body.url;
      else return { ok: false, error: 'url must be an http(s) URL or null' };
    }
    this.subscribed = events;
    this.url = url;
    return { ok: true };
  }

  /** Sends `event` with the IPN record when subscribed; the record is copied, never shared. */
  emit(event: WebhookEvent, record: Record<string, unknown>): void {
    if (!this.subscribed.has(event)) return;
    const url = this.url ?? this.deps.callbackUrl();
    if (!url) {
      this.deps.logger.warn({ event, ref: record.transactionRef }, 'sandbox webhook not sent: no URL');
      return;
    }
    this.seq++;
    this.deps.ipn.send(url, { event, eventId: `EVT${String(this.seq).padStart(8, '0')}`, ...record }, { kind: 'webhook', event });
  }

  reset(): void {
    this.subscribed = this.configured();
    this.url = this.deps.url ?? null;
  }
}
