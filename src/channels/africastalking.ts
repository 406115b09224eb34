// Africa's Talking (official docs): form-encoded (or JSON) sessionId, serviceCode, phoneNumber,
// networkCode, text. `text` is cumulative: every answer so far joined by "*" ("" on the first
// request, or the deep link's answers when the code was dialled with them). The reply is
// text/plain starting with "CON " or "END ", always HTTP 200: AT ends the session on a 4xx or on
// a body without that prefix.
import type { Context } from 'koa';
import type { ChannelAdapter, ParseResult, UssdReply } from './types.js';
import { bodyObject, checkIds, MAX_INPUT, plain, str } from './wire.js';

export function africasTalking(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'africastalking',
    method: 'POST',
    inputStyle: 'cumulative',
    starts: 'implicit',
    repeats: 'text',
    screenMaxChars,
    phoneField: 'phoneNumber',
    parse(ctx: Context): ParseResult {
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no form or JSON body' };
      const sessionId = str(b, 'sessionId')?.trim();
      const phoneNumber = str(b, 'phoneNumber')?.trim();
      const bad = checkIds(sessionId, phoneNumber, { session: 'sessionId', phone: 'phoneNumber' });
      if (bad) return { ok: false, reason: bad };
      const text = str(b, 'text') ?? '';
      if (text.length > MAX_INPUT) return { ok: false, reason: 'text too long' };
      const networkCode = str(b, 'networkCode')?.trim();
      return {
        ok: true,
        request: {
          sessionId: sessionId!,
          serviceCode: (str(b, 'serviceCode') ?? '').trim(),
          phone: phoneNumber!,
          ...(networkCode ? { networkCode } : {}),
          input: text,
          kind: text === '' ? 'start' : 'continue',
        },
      };
    },
    render(ctx: Context, reply: UssdReply): void {
      plain(ctx, (reply.continues ? 'CON ' : 'END ') + reply.text);
    },
  };
}
