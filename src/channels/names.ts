// The channel names the service knows, by the name used in its routes (/ussd/<name>).
// Kept free of imports so config.ts can validate USSD_CHANNELS against it.
export const CHANNEL_NAMES = ['africastalking', 'hubtel', 'arkesel', 'nalo', 'beem', 'emergent', 'safaricom', 'airtel', 'infobip'] as const;

export type ChannelName = (typeof CHANNEL_NAMES)[number];
