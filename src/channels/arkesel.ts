// Arkesel, Ghana (official samples; docs/channels.md). JSON in, JSON out.
// Request: sessionID, userID (our account's id at Arkesel), newSession (true on the first
// request, whose userData is the dial string), msisdn (233…, no "+"), userData (the latest
// answer), network. Reply: sessionID, userID, msisdn (echoed as sent), message,
// continueSession (false ends). Arkesel does not number its requests: what the engine does
// about a repeat is in docs/channels.md ("Repeats").
import type { Context } from 'koa';
import type { ChannelAdapter, ParseResult, UssdReply, UssdRequest } from './types.js';
import { bodyObject, checkIds, flag, isDialString, json, MAX_INPUT, str, wrongType } from './wire.js';

export function arkesel(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'arkesel',
    method: 'POST',
    inputStyle: 'latest',
    starts: 'explicit',
    repeats: 'none',
    screenMaxChars,
    phoneField: 'msisdn',
    parse(ctx: Context): ParseResult {
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no JSON body' };
      const sessionId = str(b, 'sessionID')?.trim();
      const msisdn = str(b, 'msisdn')?.trim();
      const bad = checkIds(sessionId, msisdn, { session: 'sessionID', phone: 'msisdn' });
      if (bad) return { ok: false, reason: bad };
      // Arkesel's own sample treats a missing newSession as false.
      const isNew = flag(b.newSession);
      if (isNew === 'bad') return { ok: false, reason: 'newSession is not a boolean' };
      if (wrongType(b, 'userData')) return { ok: false, reason: 'userData is not text' };
      const userData = str(b, 'userData') ?? '';
      if (userData.length > MAX_INPUT) return { ok: false, reason: 'userData too long' };
      const start = isNew === true;
      const request: UssdRequest = {
        sessionId: sessionId!,
        // No service code field: the start's dial string routes it (and may deep-link).
        serviceCode: start && isDialString(userData) ? userData.trim() : '',
        phone: msisdn!,
        input: start ? '' : userData,
        kind: start ? 'start' : 'continue',
        echo: { sessionID: b.sessionID, userID: b.userID, msisdn: b.msisdn },
      };
      return { ok: true, request };
    },
    render(ctx: Context, reply: UssdReply, req: UssdRequest): void {
      const e = req.echo ?? {};
      json(ctx, { sessionID: e.sessionID, userID: e.userID, msisdn: e.msisdn, message: reply.text, continueSession: reply.continues });
    },
  };
}
