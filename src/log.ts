// One pino logger for the process. Phones are masked, secrets redacted by path.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'ussd-sms'): Logger {
  return pino({
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
  });
}

/** 254712345678 / +254712345678 → 2547****5678; anything else keeps first 4 and last 4. */
export function maskPhone(phone: string | undefined | null): string {
  if (!phone) return '';
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 8) return '****';
  return `${digits.slice(0, 4)}****${digits.slice(-4)}`;
}
