// Beem Africa, Tanzania (consistent across integrations; docs/channels.md). JSON in, JSON out.
// Request: command (initiate | continue | terminate), session_id, msisdn (255…, no "+"),
// operator, payload { request_id, response }. `request_id` numbers the screens we sent: a
// request answers screen `request_id` with `response` (the latest answer only), so a repeat
// carries the same number, and our reply to it is screen request_id + 1 (as in Beem's sample,
// where an initiate with request_id 0 is answered with request_id 1).
// Reply: msisdn, operator, session_id (echoed as sent), command (continue | terminate),
// payload { request_id, request: the screen }.
import type { Context } from 'koa';
import type { ChannelAdapter, HopKind, ParseResult, UssdReply, UssdRequest } from './types.js';
import { bodyObject, checkIds, counter, isDialString, json, MAX_INPUT, str, type Fields } from './wire.js';

const KINDS: Record<string, HopKind> = { initiate: 'start', continue: 'continue', terminate: 'end' };

export function beem(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'beem',
    method: 'POST',
    inputStyle: 'latest',
    starts: 'explicit',
    repeats: 'sequence',
    screenMaxChars,
    phoneField: 'msisdn',
    parse(ctx: Context): ParseResult {
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no JSON body' };
      const command = str(b, 'command');
      if (!command) return { ok: false, reason: 'missing command' };
      const kind = KINDS[command.trim().toLowerCase()];
      if (!kind) return { ok: false, reason: `unsupported command "${command.slice(0, 20)}"` };
      const sessionId = str(b, 'session_id')?.trim();
      const msisdn = str(b, 'msisdn')?.trim();
      const bad = checkIds(sessionId, msisdn, { session: 'session_id', phone: 'msisdn' });
      if (bad) return { ok: false, reason: bad };
      const payload = b.payload;
      const p: Fields = payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Fields) : {};
      if (payload !== undefined && payload !== p) return { ok: false, reason: 'payload is not an object' };
      const requestId = counter(p.request_id);
      if (requestId === 'bad') return { ok: false, reason: 'payload.request_id is not a request number' };
      if (requestId === undefined && kind !== 'end') return { ok: false, reason: 'missing payload.request_id' };
      const response = str(p, 'response') ?? '';
      if (response.length > MAX_INPUT) return { ok: false, reason: 'payload.response too long' };
      const request: UssdRequest = {
        sessionId: sessionId!,
        // Beem sends no service code: the default menu answers, unless a start carries a dial string.
        serviceCode: kind === 'start' && isDialString(response) ? response.trim() : '',
        phone: msisdn!,
        input: kind === 'continue' ? response : '',
        kind,
        ...(requestId !== undefined ? { sequence: requestId } : {}),
        echo: { msisdn: b.msisdn, operator: b.operator, session_id: b.session_id },
      };
      return { ok: true, request };
    },
    render(ctx: Context, reply: UssdReply, req: UssdRequest): void {
      const e = req.echo ?? {};
      json(ctx, {
        msisdn: e.msisdn,
        operator: e.operator,
        session_id: e.session_id,
        command: reply.continues ? 'continue' : 'terminate',
        payload: { request_id: (req.sequence ?? 0) + 1, request: reply.text },
      });
    },
  };
}
