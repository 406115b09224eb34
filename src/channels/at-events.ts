// Africa's Talking's end-of-session notification (consistent across integrations, not checked
// against AT's own page; docs/channels.md): a form POST to a second callback URL once a session
// is over, with date, sessionId, serviceCode, networkCode, phoneNumber, status (Success |
// Incomplete | Failed), cost, durationInMillis, hopsCount, input, lastAppResponse, errorMessage.
// It is how we learn that a subscriber walked away (Incomplete) or that AT gave up (Failed).
import type { Context } from 'koa';
import { bodyObject, checkIds, counter, str } from './wire.js';

export type AtEndStatus = 'success' | 'incomplete' | 'failed';

export interface AtSessionEvent {
  sessionId: string;
  phone: string;
  serviceCode: string;
  status: AtEndStatus;
  hopsCount?: number;
  durationMs?: number;
  /** Shortened: AT's text, never shown to anyone, only logged. */
  errorMessage?: string;
}

export type AtEventParse = { ok: true; event: AtSessionEvent } | { ok: false; reason: string };

const STATUSES = new Set<AtEndStatus>(['success', 'incomplete', 'failed']);

export function parseAtEvent(ctx: Context): AtEventParse {
  const b = bodyObject(ctx);
  if (!b) return { ok: false, reason: 'no form or JSON body' };
  const sessionId = str(b, 'sessionId')?.trim();
  const phone = str(b, 'phoneNumber')?.trim();
  const bad = checkIds(sessionId, phone, { session: 'sessionId', phone: 'phoneNumber' });
  if (bad) return { ok: false, reason: bad };
  const raw = str(b, 'status')?.trim();
  if (!raw) return { ok: false, reason: 'missing status' };
  const status = raw.toLowerCase() as AtEndStatus;
  if (!STATUSES.has(status)) return { ok: false, reason: `unknown status "${raw.slice(0, 20)}"` };
  const hops = counter(b.hopsCount);
  const duration = counter(b.durationInMillis);
  const errorMessage = str(b, 'errorMessage')?.trim().slice(0, 200);
  return {
    ok: true,
    event: {
      sessionId: sessionId!,
      phone: phone!,
      serviceCode: (str(b, 'serviceCode') ?? '').trim(),
      status,
      ...(typeof hops === 'number' ? { hopsCount: hops } : {}),
      ...(typeof duration === 'number' ? { durationMs: duration } : {}),
      ...(errorMessage ? { errorMessage } : {}),
    },
  };
}
