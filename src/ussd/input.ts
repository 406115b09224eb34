// The subscriber's latest input (docs/architecture.md, rule 3). Cumulative channels (Africa's Talking,
// Safaricom) resend everything typed so far joined by "*": the input is what was added since
// the last processed text, found against that text rather than by splitting, so an empty answer
// survives and a "*" typed inside an answer cannot shift the path. The new input may then hold
// several answers ("3*1" typed at one prompt): the engine applies them one at a time.
//
// The session record keeps only a mark of the last request, never its text: a cumulative text
// carries every PIN and code typed in the session, and the record lives as long as the session.
// For cumulative text the mark is its length and a digest: enough to tell a repeat (same mark)
// and to find the new suffix (the first `length` characters of the new text have the stored
// digest). Latest-only channels mark requests by the aggregator's number, or by the start
// message, or not at all (docs/channels.md, "Repeats").
import * as crypto from 'node:crypto';

const MARK = '~';

/**
 * SHA-256 in base64url. Every hop of a cumulative channel hashes twice (the request's mark and the
 * stored prefix): the one-shot crypto.hash (Node 20.12+) costs a third of createHash's object
 * per call (400 vs 1,200 ns measured here); engines still allows 20.10, hence the fallback.
 */
const sha256 =
  typeof crypto.hash === 'function'
    ? (text: string) => crypto.hash('sha256', text, 'base64url')
    : (text: string) => crypto.createHash('sha256').update(text).digest('base64url');

/** What the store keeps of a text: "~<length>:<digest>". */
export function textMark(text: string): string {
  return `${MARK}${text.length}:${sha256(text).slice(0, 22)}`;
}

/** Length of the marked text, or undefined for a value that is not a mark (a record from an older release holds the text itself). */
function markedLength(mark: string): number | undefined {
  if (!mark.startsWith(MARK)) return undefined;
  const n = Number(mark.slice(1, mark.indexOf(':')));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The input sent with `text`, given the mark (or, from an older record, the text) of the last processed one. */
export function latestInput(prev: string, text: string, cumulative: boolean): string {
  if (!cumulative) return text;
  const len = markedLength(prev);
  if (len === undefined) return latestFromText(prev, text);
  if (len === 0) return text;
  if (text.length > len && text[len] === '*' && textMark(text.slice(0, len)) === prev) return text.slice(len + 1);
  if (text.length === len && textMark(text) === prev) return '';
  return lastSegment(text);
}

function latestFromText(prevText: string, text: string): string {
  if (prevText === '') return text;
  if (text.startsWith(`${prevText}*`)) return text.slice(prevText.length + 1);
  if (text === prevText) return '';
  return lastSegment(text);
}

/** The aggregator lost track of our history: the last segment is the best guess. */
function lastSegment(text: string): string {
  const i = text.lastIndexOf('*');
  return i < 0 ? text : text.slice(i + 1);
}

/** The answers one input holds, in order: "3*1" → ["3", "1"]; "" is one (empty) answer. */
export function answersOf(input: string): string[] {
  return input.split('*');
}

/** Mark of a request the aggregator numbered: "#" and ten digits, so marks compare as numbers. */
export function sequenceMark(n: number): string {
  return `#${String(n).padStart(10, '0')}`;
}

/** Mark of a start message: a repeat of the same start (nothing answered since) has the same one. */
export function startMark(serviceCode: string, input: string): string {
  return `^${sha256(`${serviceCode}\n${input}`).slice(0, 22)}`;
}

/**
 * Time mark ("!" + milliseconds) of a request nothing on the wire identifies: the request's is
 * when it arrived, the record's when its reply was stored (see ReplayMode 'n').
 */
export function timeMark(ms: number): string {
  return `!${ms}`;
}

/**
 * A dial string compared the way subscribers and aggregators write it: "*713#", "*713", "713"
 * and " 713# " are all "713".
 */
export function canonicalCode(code: string): string {
  return code.replace(/\s+/g, '').replace(/^\*+/, '').replace(/#+$/, '');
}

/** "*860*30*1*2#" answered by "*860*30#" → "1*2"; undefined when it is not an extension of it. */
export function extensionOf(dialed: string, base: string): string | undefined {
  const d = canonicalCode(dialed);
  const b = canonicalCode(base);
  if (!d.startsWith(`${b}*`)) return undefined;
  return d.slice(b.length + 1);
}
