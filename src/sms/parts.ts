// How many SMS parts a message costs, computed the way handsets and SMSCs do (3GPP TS 23.038).
// GSM-7: 160 septets single, 153 per part when concatenated (the UDH takes 7); extension-table
// characters take two septets and are never split across parts. Anything outside GSM-7 makes the
// whole message UCS-2: 70 UTF-16 code units single, 67 per part; a surrogate pair (emoji) is two
// units and is never split.
const GSM_BASIC = new Set(
  [...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001BÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'].filter(
    (c) => c !== '\u001B',
  ),
);
const GSM_EXTENSION = new Set([...'^{}\\[~]|€\f']);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface MessageParts {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** Characters as a person counts them (code points). */
  characters: number;
  parts: number;
  /** Units per part for this message (160/153 or 70/67). */
  perPart: number;
  /** Units left in the last part before another part is needed. */
  remaining: number;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch)) return false;
  return true;
}

/** Sizes of each character in the message's encoding. */
function unitSizes(text: string): { encoding: SmsEncoding; sizes: number[] } {
  if (isGsm7(text)) return { encoding: 'GSM-7', sizes: [...text].map((ch) => (GSM_EXTENSION.has(ch) ? 2 : 1)) };
  return { encoding: 'UCS-2', sizes: [...text].map((ch) => ch.length) }; // code points: 1 or 2 UTF-16 units
}

export function messageParts(text: string): MessageParts {
  const { encoding, sizes } = unitSizes(text);
  const single = encoding === 'GSM-7' ? 160 : 70;
  const multi = encoding === 'GSM-7' ? 153 : 67;
  const units = sizes.reduce((a, b) => a + b, 0);
  if (units <= single) {
    return { encoding, units, characters: sizes.length, parts: units === 0 ? 0 : 1, perPart: single, remaining: single - units };
  }
  // Fill parts greedily; a 2-unit character that does not fit starts the next part.
  let parts = 1;
  let used = 0;
  for (const s of sizes) {
    if (used + s > multi) {
      parts++;
      used = 0;
    }
    used += s;
  }
  return { encoding, units, characters: sizes.length, parts, perPart: multi, remaining: multi - used };
}
