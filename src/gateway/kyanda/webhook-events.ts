// The gateway's webhook event names (docs/gateways.md, "Webhook events") and the subscription
// spec SANDBOX_WEBHOOK_EVENTS is written in: read by the config (production code) and by the
// sandbox's webhook sender (src/dev/sandbox/webhooks.ts).
export const WEBHOOK_EVENTS = ['payment.success', 'payment.failed', 'payment.reversed', 'checkout.initiated', 'airtime.delivered', 'sms.delivered'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** "all", "none", or names separated by commas (SANDBOX_WEBHOOK_EVENTS); a list of names. */
export function parseEvents(spec: unknown): { ok: true; events: Set<WebhookEvent> } | { ok: false; error: string } {
  const list = typeof spec === 'string' ? (spec.trim() === '' ? [] : spec.split(',').map((x) => x.trim())) : Array.isArray(spec) ? spec : null;
  if (!list) return { ok: false, error: 'events must be "all", "none", a comma-separated string or a list of event names' };
  if (list.length === 1 && list[0] === 'all') return { ok: true, events: new Set(WEBHOOK_EVENTS) };
  if (list.length === 1 && list[0] === 'none') return { ok: true, events: new Set() };
  const events = new Set<WebhookEvent>();
  for (const e of list) {
    if (!(WEBHOOK_EVENTS as readonly unknown[]).includes(e))
      return { ok: false, error: `unknown event ${JSON.stringify(e)}: one of ${WEBHOOK_EVENTS.join(', ')}` };
    events.add(e as WebhookEvent);
  }
  return { ok: true, events };
}
