// The channel adapters the service speaks, by the name used in POST /ussd/:channel.
import type { Config } from '../config.js';
import { africasTalking } from './africastalking.js';
import type { ChannelAdapter } from './types.js';

export type { ChannelAdapter, UssdRequest, UssdReply } from './types.js';

export function channelAdapters(config: Config): Map<string, ChannelAdapter> {
  const at = africasTalking(config.SCREEN_MAX_CHARS);
  // "at" is a short alias; POST /ussd (no channel) is Africa's Talking too.
  return new Map<string, ChannelAdapter>([
    [at.name, at],
    ['at', at],
  ]);
}
