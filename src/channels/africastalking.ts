// Africa's Talking: form-encoded (or JSON) sessionId, serviceCode, phoneNumber, networkCode, text;
// the reply is text/plain starting with "CON " or "END ", always HTTP 200.
import type { Context } from 'koa';
import type { ChannelAdapter, ParseResult, UssdReply } from './types.js';

function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function africasTalking(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'africastalking',
    cumulative: true,
    screenMaxChars,
    parse(ctx: Context): ParseResult {
      const body = ctx.request.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'no form or JSON body' };
      const b = body as Record<string, unknown>;
      const sessionId = field(b, 'sessionId')?.trim();
      const phoneNumber = field(b, 'phoneNumber')?.trim();
      if (!sessionId) return { ok: false, reason: 'missing sessionId' };
      if (sessionId.length > 128) return { ok: false, reason: 'sessionId too long' };
      if (!phoneNumber) return { ok: false, reason: 'missing phoneNumber' };
      const text = field(b, 'text') ?? '';
      if (text.length > 1000) return { ok: false, reason: 'text too long' };
      const networkCode = field(b, 'networkCode')?.trim();
      return {
        ok: true,
        request: {
          sessionId,
          serviceCode: (field(b, 'serviceCode') ?? '').trim(),
          phoneNumber,
          ...(networkCode ? { networkCode } : {}),
          text,
        },
      };
    },
    render(ctx: Context, reply: UssdReply): void {
      ctx.status = 200;
      ctx.type = 'text/plain';
      ctx.body = (reply.continues ? 'CON ' : 'END ') + reply.text;
    },
  };
}
