// One pino logger for the process. Phones are masked, secrets redacted by path.
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /**
   * Buffer lines and write them asynchronously in blocks of at least 4 KB (flushed every second,
   * on close and on exit) instead of one synchronous write(2) per line: the one-line-per-hop log
   * then costs a fraction of a USSD hop. Default false (every line written at once).
   */
  buffered?: boolean;
}

const FLUSH_EVERY_MS = 1000;
const buffers = new WeakMap<Logger, ReturnType<typeof pino.destination>>();

export function createLogger(level: string, name = 'ussd-sms', opts: LoggerOptions = {}): Logger {
  const options = {
    name,
    level,
    // Defence in depth: these keys must never reach a log line even if someone logs a raw body.
    redact: {
      paths: [
        'pin', '*.pin', 'newPin', '*.newPin', 'otp', '*.otp', 'code', '*.code',
        'signature', '*.signature', 'apiKey', '*.apiKey', 'secret', '*.secret',
        'authorization', '*.authorization', 'headers.apiKey', 'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  if (!opts.buffered || level === 'silent') return pino(options);
  // pino registers an exit hook for asynchronous destinations that flushes what is buffered.
  const dest = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logger = pino(options, dest);
  // A quiet process still shows its last lines within a second.
  const timer = setInterval(() => {
    try { dest.flush(); } catch { /* closed */ }
  }, FLUSH_EVERY_MS);
  timer.unref();
  dest.once('close', () => clearInterval(timer));
  buffers.set(logger, dest);
  return logger;
}

/** Writes out whatever a buffered logger still holds (no-op for an unbuffered one). */
export function flushLogger(logger: Logger): void {
  const dest = buffers.get(logger);
  if (!dest) return;
  try {
    dest.flushSync();
  } catch {
    // not open yet, or stdout gone: nothing more can be written anyway
  }
}

/** 254712345678 / +254712345678 → 2547****5678; anything else keeps first 4 and last 4. */
export function maskPhone(phone: string | undefined | null): string {
  if (!phone) return '';
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 8) return '****';
  return `${digits.slice(0, 4)}****${digits.slice(-4)}`;
}
