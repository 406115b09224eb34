// The subscriber's latest input (DESIGN trap 3). Cumulative channels (Africa's Talking) resend
// everything typed so far joined by "*": the input is what was added since the last processed
// text, so an input that itself contains "*" or is empty survives.
//
// The session record keeps only a mark of the last text (its length and a digest), never the
// text: a cumulative text carries every PIN and code typed in the session, and the record lives
// as long as the session. The mark is enough to tell a repeat (same mark) and to find the new
// suffix (the first `length` characters of the new text have the stored digest).
import { createHash } from 'node:crypto';

const MARK = '~';

/** What the store keeps of a text: "~<length>:<digest>". */
export function textMark(text: string): string {
  return `${MARK}${text.length}:${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
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

/** "*860*30*1*2#" answered by "*860*30#" → "1*2"; undefined when it is not an extension of it. */
export function extensionOf(dialed: string, base: string): string | undefined {
  const b = base.slice(0, -1); // "*860*30"
  if (!dialed.endsWith('#') || !dialed.startsWith(`${b}*`)) return undefined;
  return dialed.slice(b.length + 1, -1);
}
