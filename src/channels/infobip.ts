// Infobip's legacy USSD gateway (uncertain; docs/channels.md). The path carries the session
// and the step: POST /ussd/infobip/<sessionId>/start | response | end, JSON { msisdn, text,
// shortCode, … } (text: the dial string on start, then the latest answer). Reply JSON
// { shouldClose, ussdMenu, responseExitCode: 200, responseMessage }.
import type { Context } from 'koa';
import type { ChannelAdapter, HopKind, ParseResult, UssdReply } from './types.js';
import { bodyObject, checkIds, isDialString, json, MAX_INPUT, str, wrongType } from './wire.js';

const STEPS: Record<string, HopKind> = { start: 'start', response: 'continue', end: 'end' };

/** "/ussd/infobip/<id>/<step>" → its id and step, or undefined. */
export function infobipPath(path: string): { sessionId: string; step: string } | undefined {
  const m = /^\/ussd\/infobip\/([^/]+)\/([a-z]+)\/?$/.exec(path);
  if (!m) return undefined;
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  return { sessionId, step: m[2]! };
}

export function infobip(screenMaxChars: number): ChannelAdapter {
  return {
    name: 'infobip',
    method: 'POST',
    inputStyle: 'latest',
    starts: 'explicit',
    repeats: 'none',
    screenMaxChars,
    phoneField: 'msisdn',
    parse(ctx: Context): ParseResult {
      const at = infobipPath(ctx.path);
      if (!at) return { ok: false, reason: 'the path must be /ussd/infobip/<sessionId>/start|response|end' };
      const kind = STEPS[at.step];
      if (!kind) return { ok: false, reason: `unknown step "${at.step.slice(0, 20)}"` };
      const b = bodyObject(ctx);
      if (!b) return { ok: false, reason: 'no JSON body' };
      const msisdn = str(b, 'msisdn')?.trim();
      const bad = checkIds(at.sessionId, msisdn, { session: 'sessionId', phone: 'msisdn' });
      if (bad) return { ok: false, reason: bad };
      if (wrongType(b, 'text')) return { ok: false, reason: 'text is not text' };
      const text = str(b, 'text') ?? '';
      if (text.length > MAX_INPUT) return { ok: false, reason: 'text too long' };
      const shortCode = (str(b, 'shortCode') ?? '').trim();
      return {
        ok: true,
        request: {
          sessionId: at.sessionId,
          serviceCode: kind === 'start' && isDialString(text) ? text.trim() : shortCode,
          phone: msisdn!,
          input: kind === 'continue' ? text : '',
          kind,
        },
      };
    },
    render(ctx: Context, reply: UssdReply): void {
      json(ctx, { shouldClose: !reply.continues, ussdMenu: reply.text, responseExitCode: 200, responseMessage: '' });
    },
  };
}
