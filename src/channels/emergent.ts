// Emergent Technology / Interpay, Ghana (uncertain: one weak source; docs/channels.md).
// Hubtel-like JSON: SessionId (one integration spells it sessionId), Mobile, USERID, Type
// (Initiation | Response | Release), Message (the dial string on Initiation, then the latest
// answer), Operator, optional ServiceCode. Reply: Message, Type (Response | Release),
// MaskNextRoute (true when the next answer is a secret such as a PIN).
import type { Context } from 'koa';
import type { ChannelAdapter, HopKind, ParseResult, UssdReply, UssdRequest } from './types.js';
import { bodyObject, checkIds, isDialString, json, MAX_INPUT, str, wrongType } from './wire.js';

const KINDS: Record<string, HopKind> = { initiation: 'start', response: 'continue', release: 'end', timeout: 'timeout' };

export function emergent(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'emergent',
    method: 'POST',
    inputStyle: 'latest',
    starts: 'explicit',
    repeats: 'none',
    screenMaxChars,
    phoneField: 'Mobile',
    parse(ctx: Context): ParseResult {
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no JSON body' };
      const type = str(b, 'Type');
      if (!type) return { ok: false, reason: 'missing Type' };
      const kind = KINDS[type.trim().toLowerCase()];
      if (!kind) return { ok: false, reason: `unsupported Type "${type.slice(0, 20)}"` };
      const sessionId = (str(b, 'SessionId') ?? str(b, 'sessionId'))?.trim();
      const mobile = str(b, 'Mobile')?.trim();
      const bad = checkIds(sessionId, mobile, { session: 'SessionId', phone: 'Mobile' });
      if (bad) return { ok: false, reason: bad };
      if (wrongType(b, 'Message')) return { ok: false, reason: 'Message is not text' };
      const message = str(b, 'Message') ?? '';
      if (message.length > MAX_INPUT) return { ok: false, reason: 'Message too long' };
      // ServiceCode is optional here (a peer library throws without it): the dial string in the
      // Initiation's Message, or the default menu, answers instead.
      const code = (str(b, 'ServiceCode') ?? '').trim();
      const request: UssdRequest = {
        sessionId: sessionId!,
        serviceCode: kind === 'start' && isDialString(message) ? message.trim() : code,
        phone: mobile!,
        input: kind === 'continue' ? message : '',
        kind,
      };
      return { ok: true, request };
    },
    render(ctx: Context, reply: UssdReply): void {
      json(ctx, { Message: reply.text, Type: reply.continues ? 'Response' : 'Release', MaskNextRoute: reply.field === 'secret' });
    },
  };
}
