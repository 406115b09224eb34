// Airtel through Comviva's Flares gateway (uncertain; docs/channels.md).
// GET with SessionID, MSISDN, MSC (the switch; unused) and input: on the first request the
// dialled code without "*" and "#" ("544", or "544*1*2" for a deep link), then the latest
// answer only. Nothing marks the first request: a session id we hold no record of starts a
// session. The reply body is the bare screen text; the header Freeflow says FC (continue) or
// FB (break: the session ends).
import type { Context } from 'koa';
import type { ChannelAdapter, ParseResult, UssdReply } from './types.js';
import { checkIds, MAX_INPUT, plain, queryObject, str, wrongType } from './wire.js';

export function airtel(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'airtel',
    method: 'GET',
    inputStyle: 'latest',
    starts: 'implicit',
    repeats: 'none',
    screenMaxChars,
    phoneField: 'MSISDN',
    parse(ctx: Context): ParseResult {
      const q = queryObject(ctx);
      for (const name of ['SessionID', 'MSISDN', 'MSC', 'input']) if (wrongType(q, name)) return { ok: false, reason: `${name} given more than once` };
      const sessionId = str(q, 'SessionID')?.trim();
      const msisdn = str(q, 'MSISDN')?.trim();
      const bad = checkIds(sessionId, msisdn, { session: 'SessionID', phone: 'MSISDN' });
      if (bad) return { ok: false, reason: bad };
      const input = str(q, 'input') ?? '';
      if (input.length > MAX_INPUT) return { ok: false, reason: 'input too long' };
      return { ok: true, request: { sessionId: sessionId!, serviceCode: '', phone: msisdn!, input, kind: 'continue' } };
    },
    render(ctx: Context, reply: UssdReply): void {
      ctx.set('Freeflow', reply.continues ? 'FC' : 'FB');
      plain(ctx, reply.text);
    },
  };
}
