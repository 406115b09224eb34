// Nalo Solutions, Ghana (consistent across integrations; docs/channels.md). JSON in, JSON out.
// Request: USERID, MSISDN (233…, no "+"), USERDATA (the dial string when MSGTYPE is true, then
// the latest answer; at most 120 characters), MSGTYPE (true: a new session), NETWORK, SESSIONID.
// Reply: USERID, MSISDN (echoed as sent), MSG (at most 120 characters), MSGTYPE (true
// continues, false ends). Nalo does not number its requests (docs/channels.md, "Repeats").
import type { Context } from 'koa';
import type { ChannelAdapter, ParseResult, UssdReply, UssdRequest } from './types.js';
import { bodyObject, checkIds, flag, isDialString, json, MAX_INPUT, str, wrongType } from './wire.js';

/** Nalo documents 120 characters per screen, fewer than the usual 182. */
export const NALO_SCREEN_MAX = 120;

export function nalo(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'nalo',
    method: 'POST',
    inputStyle: 'latest',
    starts: 'explicit',
    repeats: 'none',
    screenMaxChars: Math.min(NALO_SCREEN_MAX, screenMaxChars),
    phoneField: 'MSISDN',
    parse(ctx: Context): ParseResult {
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no JSON body' };
      const msisdn = str(b, 'MSISDN')?.trim();
      // Whether SESSIONID is stable for a session is the uncertain part: it keys the session
      // when present; without it the phone does (one session per phone at a time).
      const sessionId = str(b, 'SESSIONID')?.trim() || (msisdn ? `msisdn-${msisdn}` : undefined);
      const bad = checkIds(sessionId, msisdn, { session: 'SESSIONID', phone: 'MSISDN' });
      if (bad) return { ok: false, reason: bad };
      const isNew = flag(b.MSGTYPE);
      if (isNew === undefined) return { ok: false, reason: 'missing MSGTYPE' };
      if (isNew === 'bad') return { ok: false, reason: 'MSGTYPE is not a boolean' };
      if (wrongType(b, 'USERDATA')) return { ok: false, reason: 'USERDATA is not text' };
      const data = str(b, 'USERDATA') ?? '';
      if (data.length > MAX_INPUT) return { ok: false, reason: 'USERDATA too long' };
      const request: UssdRequest = {
        sessionId: sessionId!,
        serviceCode: isNew && isDialString(data) ? data.trim() : '',
        phone: msisdn!,
        input: isNew ? '' : data,
        kind: isNew ? 'start' : 'continue',
        echo: { USERID: b.USERID, MSISDN: b.MSISDN },
      };
      return { ok: true, request };
    },
    render(ctx: Context, reply: UssdReply, req: UssdRequest): void {
      const e = req.echo ?? {};
      json(ctx, { USERID: e.USERID, MSISDN: e.MSISDN, MSG: reply.text, MSGTYPE: reply.continues });
    },
  };
}
