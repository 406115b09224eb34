// A logger whose output a test reads back: each line as written, or parsed.
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';

/** A pino logger (at `level`, default trace) whose every line lands in `lines` as written. */
export function captureLogger(level = 'trace'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return {
    logger: pino(
      { level },
      {
        write: (s: string) => {
          lines.push(s);
        },
      },
    ),
    lines,
  };
}

/** The same with each line parsed: `lines` holds the log records. */
export function captureRecords<T = Record<string, unknown>>(level = 'trace'): { logger: Logger; lines: T[] } {
  const lines: T[] = [];
  return {
    logger: pino(
      { level },
      {
        write: (s: string) => {
          lines.push(JSON.parse(s) as T);
        },
      },
    ),
    lines,
  };
}
