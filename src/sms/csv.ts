// Phone numbers from a CSV stream, one at a time, never the whole file in memory.
// Accepted shapes: one number per line, or a header row naming the column (phone, msisdn,
// mobile, number, phone_number, phoneNumber, recipient, tel). Quoted fields ("...", "" inside)
// are understood; blank lines are skipped. A first row that looks like a header without one of
// those names is refused rather than guessed.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { BulkError } from './errors.js';

const PHONE_HEADERS = new Set(['phone', 'msisdn', 'mobile', 'number', 'phone_number', 'phonenumber', 'phone number', 'recipient', 'tel', 'telephone']);

/** Splits one CSV line; handles quotes. Fast path for lines without quotes. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

export async function* csvPhones(input: Readable): AsyncGenerator<string> {
  // The UTF-8 BOM some spreadsheet exports start with must not end up in the first number.
  const rl = createInterface({ input, crlfDelay: Infinity });
  let column = -1; // -1 until the first non-blank line decides
  for await (const rawLine of rl) {
    const line = column === -1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (line.trim() === '') continue;
    if (column === -1) {
      const fields = splitCsvLine(line).map((f) => f.trim());
      const idx = fields.findIndex((f) => PHONE_HEADERS.has(f.toLowerCase()));
      if (idx >= 0) { column = idx; continue; }
      if (fields.length > 1 && fields.every((f) => !/\d/.test(f))) {
        throw new BulkError('NO_PHONE_COLUMN', 'CSV header has no phone column (name it "phone")');
      }
      column = 0;
    }
    const fields = splitCsvLine(line);
    yield (fields[column] ?? '').trim();
  }
}
