// The SMS a hop promised ("you will receive an SMS") when its outcome came after the reply.
// Sent straight to the gateway (Redis may be the reason the hop was late), with a few retries
// under one reference, so a repeat is recognised by the gateway as the same message.
import type { AppContext } from '../app-context.js';
import { maskPhone } from '../log.js';
import type { LateSms } from './engine.js';

const ATTEMPTS = 5;
/** How long a promised SMS waits for gateway slots, in all, before it counts as not sent. */
const SLOT_WAIT_MAX_MS = 3_600_000;

export function lateSmsSender(app: Pick<AppContext, 'gateways' | 'logger' | 'metrics'>): LateSms {
  return (phone, text, reference) => {
    void (async () => {
      const started = Date.now();
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          const r = await app.gateways.sms.sendSms({ phone, message: text }, { reference, priority: 'notice' });
          if (r.kind !== 'failed') {
            app.logger.info({ phone: maskPhone(phone), reference, outcome: r.kind }, 'late hop outcome sent by SMS');
            return;
          }
          if (!r.error.retryable) throw r.error;
          if (r.error.retryAfterMs !== undefined && Date.now() - started < SLOT_WAIT_MAX_MS) {
            // No slot in the shared gateway allowance: it never left. Waiting for a slot is not
            // a failed attempt, or a long backlog would drop the SMS the subscriber was promised.
            attempt--;
            await new Promise((res) => setTimeout(res, Math.min(Math.max(r.error.retryAfterMs!, 50), 60_000)));
            continue;
          }
        } catch (err) {
          if (attempt === ATTEMPTS || !(err as { retryable?: boolean }).retryable) {
            app.metrics.inc('ussd_late_sms_failed_total', {}, 1, 'Promised SMS that could not be sent');
            app.logger.error({ phone: maskPhone(phone), reference, err: (err as Error).message }, 'promised SMS not sent');
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
      }
    })();
  };
}
