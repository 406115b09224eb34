// One adapter per aggregator: its wire format in, our reply out. A new aggregator is one file.
import type { Context } from 'koa';

/** What the engine needs from one aggregator request, whatever its wire format. */
export interface UssdRequest {
  sessionId: string;
  serviceCode: string;
  /** Raw phone as sent; the route normalizes it with parsePhone. */
  phoneNumber: string;
  networkCode?: string;
  /** The aggregator's text: cumulative ("1*2*0712…") or latest input only, see `cumulative`. */
  text: string;
}

export interface UssdReply {
  /** true = CON (session continues), false = END. */
  continues: boolean;
  text: string;
}

export type ParseResult = { ok: true; request: UssdRequest } | { ok: false; reason: string };

export interface ChannelAdapter {
  name: string;
  /** True when `text` carries every input so far joined by `*` (Africa's Talking). */
  cumulative: boolean;
  /** Characters one screen may hold on this channel. */
  screenMaxChars: number;
  parse(ctx: Context): ParseResult;
  render(ctx: Context, reply: UssdReply): void;
}
