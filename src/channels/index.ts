// The channel adapters the service speaks, by the name used in /ussd/<channel>; only those in
// USSD_CHANNELS are served (the others answer 404 like an unknown name).
import type { Config } from '../config.js';
import { africasTalking } from './africastalking.js';
import { airtel } from './airtel.js';
import { arkesel } from './arkesel.js';
import { beem } from './beem.js';
import { emergent } from './emergent.js';
import { hubtel } from './hubtel.js';
import { infobip } from './infobip.js';
import { nalo } from './nalo.js';
import type { ChannelName } from './names.js';
import { safaricom } from './safaricom.js';
import type { ChannelAdapter } from './types.js';

export type { ChannelAdapter, UssdRequest, UssdReply, HopKind } from './types.js';
export { CHANNEL_NAMES, type ChannelName } from './names.js';

const MAKERS: Record<ChannelName, (screenMaxChars: number) => ChannelAdapter> = {
  africastalking: africasTalking,
  hubtel,
  arkesel,
  nalo,
  beem,
  emergent,
  safaricom,
  airtel,
  infobip,
};

/** Every enabled adapter by name; "at" is a short alias of africastalking. */
export function channelAdapters(config: Pick<Config, 'SCREEN_MAX_CHARS' | 'USSD_CHANNELS'>): Map<string, ChannelAdapter> {
  const out = new Map<string, ChannelAdapter>();
  for (const name of config.USSD_CHANNELS) out.set(name, MAKERS[name](config.SCREEN_MAX_CHARS));
  const at = out.get('africastalking');
  if (at) out.set('at', at);
  return out;
}

/**
 * The screen limits menus must fit, each with the enabled channels that have it (menus:check
 * and start-up check every one of them).
 */
export function screenLimits(config: Pick<Config, 'SCREEN_MAX_CHARS' | 'USSD_CHANNELS'>): { limit: number; channels: string[] }[] {
  const by = new Map<number, string[]>();
  for (const name of config.USSD_CHANNELS) {
    const limit = MAKERS[name](config.SCREEN_MAX_CHARS).screenMaxChars;
    by.set(limit, [...(by.get(limit) ?? []), name]);
  }
  return [...by.entries()].sort((a, b) => b[0] - a[0]).map(([limit, channels]) => ({ limit, channels }));
}

/**
 * The key a session is stored under. Every channel but Africa's Talking gets its own prefix, so
 * the same session id from two aggregators never meets; Africa's Talking keeps the bare id (its
 * records, logs and tools predate channels) unless the id itself holds ":", which then moves
 * under "at:" so no AT id can ever look like another channel's key.
 */
export function sessionKeyOf(channel: Pick<ChannelAdapter, 'name'>, sessionId: string): string {
  if (channel.name === 'africastalking') return sessionId.includes(':') ? `at:${sessionId}` : sessionId;
  return `${channel.name}:${sessionId}`;
}
