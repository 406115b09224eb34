// Screens are plain GSM-7 (docs/architecture.md, rule 7): handsets show "?" or boxes for anything else, and one
// non-GSM character switches the whole message to UCS-2 and halves the space.
const BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// The extension table costs two septets each; we allow them but prefer ASCII look-alikes.
const EXTENDED = '^{}\\[~]|€';
const ALLOWED = new Set([...BASIC, ...EXTENDED]);

const REPLACE: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '`': "'",
  '´': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '«': '"',
  '»': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2012': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2010': '-',
  '\u2011': '-',
  '\u2026': '...',
  '\u00A0': ' ',
  '\u2009': ' ',
  '\u202F': ' ',
  '\u2007': ' ',
  '\t': ' ',
  '\u2022': '-',
  '·': '-',
  '×': 'x',
  '÷': '/',
  '\u2122': 'TM',
  '©': '(c)',
  '®': '(R)',
};

const cache = new Map<string, string>();

/** Replace look-alikes with GSM-7 characters and drop everything else (emoji, symbols). */
export function toGsm7(text: string): string {
  // Fast path: plain ASCII printable + newline is always GSM-7 except `, which we map.
  if (/^[\n\r\x20-\x5f\x61-\x7e]*$/.test(text)) return text;
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  let out = '';
  for (const ch of text) {
    if (ALLOWED.has(ch)) {
      out += ch;
      continue;
    }
    const r = REPLACE[ch];
    if (r !== undefined) {
      out += r;
      continue;
    }
    // Accented letters outside GSM-7 lose their accent (ô → o); anything else is dropped.
    const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    if (base.length === 1 && ALLOWED.has(base)) out += base;
  }
  // A dropped emoji leaves its neighbouring spaces behind.
  out = out.replace(/ {2,}/g, ' ').replace(/ +$/gm, '');
  if (cache.size < 5000) cache.set(text, out);
  return out;
}

/** Length in characters as a handset counts them (extension characters count as two). */
export function gsmLength(text: string): number {
  // Runs on every rendered screen: a charCode loop, not a string iterator.
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 ? EXTENDED_ASCII[c] === 1 : c === EURO) n++;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) n--; // a surrogate pair is one character
    }
  }
  return n;
}

const EURO = 0x20ac;
const EXTENDED_ASCII = new Uint8Array(128);
for (const ch of EXTENDED) if (ch.charCodeAt(0) < 128) EXTENDED_ASCII[ch.charCodeAt(0)] = 1;
