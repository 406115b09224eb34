// Hubtel, Ghana (official docs; docs/channels.md). JSON in, JSON out.
// Request: Type (Initiation | Response | Release | Timeout, case varies between Hubtel's own
// docs and SDKs), SessionId, Mobile (233…, no "+"), ServiceCode (713, 713*4 or *713), Message
// (the whole dial string on Initiation, then the latest answer only), Sequence (numbers the
// requests of a session: a repeat carries the same number), Operator, ClientState, Platform.
// Reply: Type Response (continue) | Release (end), Message, Label, ClientState, DataType,
// FieldType. A reply to Timeout is ignored by Hubtel: it means our answer came too late.
import type { Context } from 'koa';
import type { ChannelAdapter, HopKind, ParseResult, ReplyField, UssdReply, UssdRequest } from './types.js';
import { bodyObject, checkIds, counter, firstLine, isDialString, json, MAX_INPUT, str, wrongType } from './wire.js';

const KINDS: Record<string, HopKind> = { initiation: 'start', response: 'continue', release: 'end', timeout: 'timeout' };

/** Hubtel's FieldType for the next answer: a PIN is digits (Hubtel has no masked type). */
const FIELD: Record<ReplyField, string> = { number: 'number', phone: 'phone', secret: 'number' };

export function hubtel(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'hubtel',
    method: 'POST',
    inputStyle: 'latest',
    starts: 'explicit',
    repeats: 'sequence',
    screenMaxChars,
    phoneField: 'Mobile',
    parse(ctx: Context): ParseResult {
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no JSON body' };
      const type = str(b, 'Type');
      if (!type) return { ok: false, reason: 'missing Type' };
      const kind = KINDS[type.trim().toLowerCase()];
      // AddToCart, Favorite, Query belong to Hubtel's shopping features, which we do not use.
      if (!kind) return { ok: false, reason: `unsupported Type "${type.slice(0, 20)}"` };
      const sessionId = str(b, 'SessionId')?.trim();
      const mobile = str(b, 'Mobile')?.trim();
      const bad = checkIds(sessionId, mobile, { session: 'SessionId', phone: 'Mobile' });
      if (bad) return { ok: false, reason: bad };
      if (wrongType(b, 'Message')) return { ok: false, reason: 'Message is not text' };
      const message = str(b, 'Message') ?? '';
      if (message.length > MAX_INPUT) return { ok: false, reason: 'Message too long' };
      const sequence = counter(b.Sequence);
      if (sequence === 'bad') return { ok: false, reason: 'Sequence is not a request number' };
      const serviceCode = (str(b, 'ServiceCode') ?? '').trim();
      const request: UssdRequest = {
        sessionId: sessionId!,
        // On Initiation the Message is what was dialled: its extension is a deep link.
        serviceCode: kind === 'start' && isDialString(message) ? message.trim() : serviceCode,
        phone: mobile!,
        input: kind === 'continue' ? message : '',
        kind,
        ...(sequence !== undefined ? { sequence } : {}),
        echo: { SessionId: b.SessionId },
      };
      return { ok: true, request };
    },
    render(ctx: Context, reply: UssdReply, req: UssdRequest): void {
      json(ctx, {
        SessionId: req.echo?.SessionId ?? req.sessionId,
        Type: reply.continues ? 'Response' : 'Release',
        Message: reply.text,
        Label: firstLine(reply.text),
        ClientState: '',
        DataType: reply.continues ? 'input' : 'display',
        FieldType: reply.field ? FIELD[reply.field] : 'text',
      });
    },
  };
}
