// Campaign messages with {column} placeholders filled from each recipient's CSV row (or JSON
// object): "Habari {name}, your balance is KES {balance}". Column names are compared without
// case and surrounding spaces; a placeholder naming no column of the upload is refused before
// anything is read further, and a row with no value for one is reported invalid (no
// "Dear ," goes out).
import { BulkError } from './errors.js';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_ .-]{0,63})\}/g;

export interface Template {
  text: string;
  /** Column names used, lower case, in order of first use. */
  columns: string[];
}

const norm = (s: string) => s.trim().toLowerCase();

/** The template of a message, or undefined when it has no placeholder (sent as it is). */
export function templateOf(message: string): Template | undefined {
  const columns: string[] = [];
  for (const m of message.matchAll(PLACEHOLDER)) {
    const c = norm(m[1]!);
    if (!columns.includes(c)) columns.push(c);
  }
  return columns.length ? { text: message, columns } : undefined;
}

/** Refuses a template whose placeholders name columns the upload does not have. */
export function checkColumns(t: Template, header: readonly string[] | undefined): void {
  const have = new Set((header ?? []).map(norm));
  const missing = t.columns.filter((c) => !have.has(c));
  if (missing.length === 0) return;
  throw new BulkError(
    'UNKNOWN_PLACEHOLDER',
    header?.length
      ? `the message uses {${missing.join('}, {')}} but the upload has no such column (columns: ${[...have].join(', ')})`
      : `the message uses {${missing.join('}, {')}}: placeholders need a CSV with a header row (or JSON recipients as objects) naming those columns`,
  );
}

/** The message for one recipient; a string naming the empty column when one has no value. */
export function render(t: Template, fields: Readonly<Record<string, string>>): { text: string } | { missing: string } {
  for (const c of t.columns) if (!(fields[c] ?? '').trim()) return { missing: c };
  return { text: t.text.replace(PLACEHOLDER, (_m, name: string) => (fields[norm(name)] ?? '').trim()) };
}
