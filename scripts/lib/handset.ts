// Draws one USSD screen the way a small handset shows it: a narrow display, words wrapped,
// the aggregator's CON/END prefix gone, and a footer with the character count against the
// screen limit so a menu author sees at a glance how close a screen is to being cut.

export interface ScreenView {
  text: string;
  continues: boolean;
  /** Round trip of the request, shown in the footer. */
  ms?: number;
  /** Characters a screen may hold (182 on Africa's Talking). */
  maxChars: number;
  /** Inner width of the display in columns. */
  width: number;
}

/** Wraps one line at word boundaries; a word longer than the width is cut. */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ')) {
    let w = word;
    while (w.length > width) {
      if (cur) {
        out.push(cur);
        cur = '';
      }
      out.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (cur === '') cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ` ${w}`;
    else {
      out.push(cur);
      cur = w;
    }
  }
  out.push(cur);
  return out;
}

export function wrapText(text: string, width: number): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .flatMap((l) => wrapLine(l, width));
}

/** Characters as the network counts them: code points, not UTF-16 units. */
export function screenLength(text: string): number {
  return [...text].length;
}

export function drawScreen(v: ScreenView): string {
  const w = v.width;
  const n = screenLength(v.text);
  const over = n > v.maxChars ? ' TOO LONG' : '';
  const tag = ` ${v.continues ? 'CON' : 'END'} ${n}/${v.maxChars}${over}${v.ms !== undefined ? ` ${v.ms}ms` : ''} `;
  const lines = wrapText(v.text, w).map((l) => `│ ${l.padEnd(w)} │`);
  // On a display too narrow for the footer, the footer goes under the frame.
  if (tag.length > w + 2) return [`┌${'─'.repeat(w + 2)}┐`, ...lines, `└${'─'.repeat(w + 2)}┘`, tag.trim()].join('\n');
  const fill = w + 2 - tag.length;
  const left = Math.floor(fill / 2);
  return [`┌${'─'.repeat(w + 2)}┐`, ...lines, `└${'─'.repeat(left)}${tag}${'─'.repeat(fill - left)}┘`].join('\n');
}
