// One pino logger for the process. Phones are masked, secrets redacted by path.
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /**
   * Collect lines into blocks of about 4 KB, each written with one write(2) (and whatever is
   * left every second, on close and on exit), instead of one write(2) per line: the
   * one-line-per-hop log then costs a fraction of a USSD hop. Default false (every line
   * written at once).
   */
  buffered?: boolean;
}

const FLUSH_EVERY_MS = 1000;
const BLOCK_CHARS = 4096;

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Hands lines to sonic-boom a block at a time: one write(2) per block instead of per line, and
 * sonic-boom's own per-write bookkeeping (it measures its buffer with Buffer.byteLength) once
 * per ~4 KB rather than on every line.
 */
class LineBlocks {
  private parts: string[] = [];
  private chars = 0;
  constructor(readonly dest: SonicBoom) {}

  write(line: string): boolean {
    this.parts.push(line);
    this.chars += line.length;
    if (this.chars >= BLOCK_CHARS) this.pass();
    return true;
  }

  pass(): void {
    if (this.chars === 0) return;
    if ((this.dest as unknown as { destroyed?: boolean }).destroyed) {
      this.parts = []; // nowhere to go: never let lines pile up in memory
      this.chars = 0;
      return;
    }
    const block = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.chars = 0;
    this.dest.write(block);
  }

  /** pino's logger.flush(cb) lands here. */
  flush(cb?: (err?: Error) => void): void {
    this.pass();
    this.dest.flush(cb);
  }

  flushSync(): void {
    this.pass();
    this.dest.flushSync();
  }
}

const open = new Set<LineBlocks>();
const loggers = new WeakMap<Logger, LineBlocks>();
// Registered when this module loads, so before sonic-boom's own exit hooks: what is still in a
// block reaches sonic-boom before it flushes (on exit) or ends (on beforeExit).
process.on('beforeExit', () => {
  for (const b of open) b.pass();
});
process.on('exit', () => {
  for (const b of open) {
    try {
      b.pass();
    } catch {
      /* stdout gone: nothing more can be written anyway */
    }
  }
});

export function createLogger(level: string, name = 'ussd-sms', opts: LoggerOptions = {}): Logger {
  const options = {
    name,
    level,
    // Defence in depth: these keys must never reach a log line even if someone logs a raw body.
    // Secrets only: `code` is a gateway's status code on every gateway line, and OTP codes are
    // only ever held in a variable named `otp` (src/sms/otp.ts), so it is not redacted.
    redact: {
      paths: [
        'pin',
        '*.pin',
        'newPin',
        '*.newPin',
        'new_pin',
        '*.new_pin',
        'otp',
        '*.otp',
        'signature',
        '*.signature',
        'apiKey',
        '*.apiKey',
        'secret',
        '*.secret',
        'authorization',
        '*.authorization',
        'headers.apiKey',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  if (!opts.buffered || level === 'silent') return pino(options);
  // The blocks are the buffering: each one is written at once (one write(2) per ~4 KB), so no
  // write is ever in flight when the process exits and lines keep their order.
  const dest = pino.destination({ dest: 1, sync: true });
  const blocks = new LineBlocks(dest);
  open.add(blocks);
  const logger = pino(options, blocks);
  // A quiet process still shows its last lines within a second.
  const timer = setInterval(() => {
    try {
      blocks.flush();
    } catch {
      /* closed */
    }
  }, FLUSH_EVERY_MS);
  timer.unref();
  dest.once('close', () => {
    clearInterval(timer);
    open.delete(blocks);
  });
  loggers.set(logger, blocks);
  return logger;
}

/** Writes out whatever a buffered logger still holds (no-op for an unbuffered one). */
export function flushLogger(logger: Logger): void {
  const blocks = loggers.get(logger);
  if (!blocks) return;
  try {
    blocks.flushSync();
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
