// Phone numbers from a CSV stream, one row at a time, never the whole file in memory.
// Parsing is csv-parse's (RFC 4180: quoted fields may hold commas, doubled quotes and line
// breaks); a row longer than MAX_ROW_CHARS stops the upload with 400 instead of growing without
// bound, so one huge quoted "line" costs at most that much memory and no long synchronous pass.
// Accepted shapes: one number per line, or a header row naming the column (phone, msisdn,
// mobile, number, phone_number, phoneNumber, recipient, tel). A first row that looks like a
// header without one of those names is refused rather than guessed. A row with more (non-empty)
// fields than the header, or than the first row in a file without one, is reported as invalid
// with that reason: its number cannot be told apart from the extra columns.
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { BulkError } from './errors.js';

const PHONE_HEADERS = new Set(['phone', 'msisdn', 'mobile', 'number', 'phone_number', 'phonenumber', 'phone number', 'recipient', 'tel', 'telephone']);

/** Characters one row may hold (all its fields together). */
export const MAX_ROW_CHARS = 64 * 1024;

/**
 * One data row: the phone field as written, or why the row cannot be read; with `fields` asked
 * for (a message with {column} placeholders), every column of the row by its header's name.
 */
export interface CsvRow {
  value: string;
  problem?: string;
  fields?: Record<string, string>;
}

export interface CsvOptions {
  /** Keep each row's columns by header name (lower case); off by default: it costs an object per row. */
  fields?: boolean;
  /** Called once with the header row (lower case), or with undefined when the file has none. */
  onHeader?: (header: string[] | undefined) => void;
}

/** Fields up to the last non-empty one: "0712…," exported with a trailing comma is one field. */
function width(fields: string[]): number {
  let n = fields.length;
  while (n > 0 && fields[n - 1]!.trim() === '') n--;
  return n;
}

function csvFailure(err: unknown): BulkError {
  if (err instanceof CsvError) {
    const line = (err as CsvError & { lines?: number }).lines;
    const where = line ? ` (line ${line})` : '';
    if (err.code === 'CSV_MAX_RECORD_SIZE') return new BulkError('CSV_ROW_TOO_LONG', `a CSV row is longer than ${MAX_ROW_CHARS} characters${where}`);
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') return new BulkError('BAD_CSV', `a quoted field is never closed${where}`);
    return new BulkError('BAD_CSV', `the CSV cannot be read: ${err.code}${where}`);
  }
  return err as BulkError;
}

/** Rows handed over at once: one synchronous pass over them is a millisecond or two. */
const BATCH_ROWS = 1000;

/**
 * `input` yields UTF-8 bytes (see decodeToUtf8 in upload.ts for other charsets). Rows come in
 * arrays of up to BATCH_ROWS: a promise per row would cost more than reading the row.
 */
export async function* csvRows(input: Readable, opts: CsvOptions = {}): AsyncGenerator<CsvRow[]> {
  const parser = parse({
    bom: true, // a UTF-8 BOM from a spreadsheet export must not end up in the first number
    relax_column_count: true, // we check widths ourselves, to report the row rather than fail the file
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    max_record_size: MAX_ROW_CHARS,
    // Any line ending, even mixed in one file (rows pasted together from several exports).
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on('readable', poke);
  parser.on('end', () => {
    ended = true;
    poke();
  });
  parser.on('error', (err) => {
    failure ??= err;
    poke();
  });
  input.on('error', (err) => {
    failure ??= err;
    parser.destroy();
    poke();
  });
  input.pipe(parser);
  let column = -1; // -1 until the first row decides
  let expected = 0;
  let header: string[] | undefined;
  try {
    for (;;) {
      if (failure) throw failure;
      const batch: CsvRow[] = [];
      let record: string[] | null;
      while (batch.length < BATCH_ROWS && (record = parser.read() as string[] | null) !== null) {
        if (column === -1) {
          const fields = record.map((f) => f.trim());
          const idx = fields.findIndex((f) => PHONE_HEADERS.has(f.toLowerCase()));
          expected = width(record);
          if (idx >= 0) {
            column = idx;
            header = fields.map((f) => f.toLowerCase());
            opts.onHeader?.(header);
            continue;
          }
          if (fields.length > 1 && fields.every((f) => !/\d/.test(f))) {
            throw new BulkError('NO_PHONE_COLUMN', 'CSV header has no phone column (name it "phone")');
          }
          column = 0;
          opts.onHeader?.(undefined);
        }
        const n = width(record);
        if (n > expected) batch.push({ value: record.join(','), problem: `row has ${n} fields; ${expected} expected` });
        else if (opts.fields && header) {
          const f: Record<string, string> = {};
          header.forEach((h, i) => {
            f[h] = record![i] ?? '';
          });
          batch.push({ value: (record[column] ?? '').trim(), fields: f });
        } else batch.push({ value: (record[column] ?? '').trim() });
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } catch (err) {
    input.unpipe(parser);
    parser.destroy();
    throw csvFailure(err);
  } finally {
    parser.removeListener('readable', poke);
  }
}
