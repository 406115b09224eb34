// The subscriber's latest input (DESIGN trap 3). Cumulative channels (Africa's Talking) resend
// everything typed so far joined by "*": the input is what was added since the last processed
// text, so an input that itself contains "*" or is empty survives.
export function latestInput(prevText: string, text: string, cumulative: boolean): string {
  if (!cumulative) return text;
  if (prevText === '') return text;
  if (text.startsWith(`${prevText}*`)) return text.slice(prevText.length + 1);
  if (text === prevText) return '';
  // The aggregator lost track of our history: the last segment is the best guess.
  const i = text.lastIndexOf('*');
  return i < 0 ? text : text.slice(i + 1);
}

/** "*860*30*1*2#" answered by "*860*30#" → "1*2"; undefined when it is not an extension of it. */
export function extensionOf(dialed: string, base: string): string | undefined {
  const b = base.slice(0, -1); // "*860*30"
  if (!dialed.endsWith('#') || !dialed.startsWith(`${b}*`)) return undefined;
  return dialed.slice(b.length + 1, -1);
}
