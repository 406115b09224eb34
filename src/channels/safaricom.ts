// Safaricom's direct USSD interface, Kenya (uncertain: older integrations; docs/channels.md).
// GET with ORIG (the subscriber, 2547…), DEST (the short code), SESSION_ID and USSD_PARAMS:
// cumulative like Africa's Talking's text (empty, or the dialled extension, on the first
// request). Reply text/plain "CON …" / "END …". The first request has been seen twice: the
// second is answered from the record like any repeat.
import type { Context } from 'koa';
import type { ChannelAdapter, ParseResult, UssdReply } from './types.js';
import { checkIds, MAX_INPUT, plain, queryObject, str, wrongType } from './wire.js';

export function safaricom(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'safaricom',
    method: 'GET',
    inputStyle: 'cumulative',
    starts: 'implicit',
    repeats: 'text',
    screenMaxChars,
    phoneField: 'ORIG',
    parse(ctx: Context): ParseResult {
      const q = queryObject(ctx);
      for (const name of ['ORIG', 'DEST', 'SESSION_ID', 'USSD_PARAMS']) if (wrongType(q, name)) return { ok: false, reason: `${name} given more than once` };
      const sessionId = str(q, 'SESSION_ID')?.trim();
      const orig = str(q, 'ORIG')?.trim();
      const bad = checkIds(sessionId, orig, { session: 'SESSION_ID', phone: 'ORIG' });
      if (bad) return { ok: false, reason: bad };
      const params = str(q, 'USSD_PARAMS') ?? '';
      if (params.length > MAX_INPUT) return { ok: false, reason: 'USSD_PARAMS too long' };
      return {
        ok: true,
        request: { sessionId: sessionId!, serviceCode: (str(q, 'DEST') ?? '').trim(), phone: orig!, input: params, kind: params === '' ? 'start' : 'continue' },
      };
    },
    render(ctx: Context, reply: UssdReply): void {
      plain(ctx, (reply.continues ? 'CON ' : 'END ') + reply.text);
    },
  };
}
