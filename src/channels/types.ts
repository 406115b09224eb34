// One adapter per aggregator: its wire format in, our reply out. A new aggregator is one file
// plus one line in index.ts; docs/channels.md describes what each one sends.
import type { Context } from 'koa';

/**
 * What a request asks for. `start`: the aggregator says a new session begins. `continue`: an
 * answer to the screen shown. `end`: the network or the subscriber ended the session.
 * `timeout`: the aggregator gave up waiting for our reply (it ignores whatever we answer).
 */
export type HopKind = 'start' | 'continue' | 'end' | 'timeout';

/** What the engine needs from one aggregator request, whatever its wire format. */
export interface UssdRequest {
  /** The aggregator's session id; the engine keys sessions per channel (docs/channels.md). */
  sessionId: string;
  /**
   * The code the session was dialled on, as sent ('' when the channel sends none). On a start
   * this may be the whole dial string (`*713*1*2#`): its extension is a deep link.
   */
  serviceCode: string;
  /** The phone exactly as sent; normalised by the route, echoed back from `echo`. */
  phone: string;
  networkCode?: string;
  /**
   * Cumulative channels: every answer so far joined by "*". Latest-only channels: the newest
   * answer. Implicit-start channels (Airtel) carry the dialled code here on their first request.
   */
  input: string;
  kind: HopKind;
  /** The aggregator's number for this request (Hubtel Sequence, Beem request_id). */
  sequence?: number;
  /** Request fields the reply must carry back unchanged (ids, the phone as sent). */
  echo?: Readonly<Record<string, unknown>>;
}

/** How the next answer should be typed; a hint some aggregators pass to the handset. */
export type ReplyField = 'number' | 'phone' | 'secret';

export interface UssdReply {
  /** true = CON (session continues), false = END. */
  continues: boolean;
  text: string;
  /** The screen asks for digits, a phone number, or a secret (PIN, code); absent: free text or a choice. */
  field?: ReplyField;
}

export type ParseResult = { ok: true; request: UssdRequest } | { ok: false; reason: string };

export interface ChannelAdapter {
  name: string;
  /** HTTP method the aggregator calls with (GET channels read the query string). */
  method: 'GET' | 'POST';
  /** `cumulative`: every answer so far joined by "*" (Africa's Talking, Safaricom); `latest`: the newest only. */
  inputStyle: 'cumulative' | 'latest';
  /**
   * How a new session shows itself: `explicit` (a flag or a type says so), `implicit` (the first
   * request of a session id we hold no record of).
   */
  starts: 'explicit' | 'implicit';
  /**
   * What tells a repeated request from a new one: `text` (the cumulative text), `sequence` (the
   * aggregator numbers its requests), `none` (nothing on the wire does; docs/channels.md says
   * what the engine does then).
   */
  repeats: 'text' | 'sequence' | 'none';
  /** Characters one screen may hold on this channel. */
  screenMaxChars: number;
  /** The request field holding the phone, named in the 400 a bad number gets. */
  phoneField: string;
  parse(ctx: Context): ParseResult;
  /** Writes the aggregator's exact response for `reply` (status, type, body, headers). */
  render(ctx: Context, reply: UssdReply, req: UssdRequest): void;
}
