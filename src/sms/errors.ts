// Errors of the SMS module: a stable code, a message safe to return to API callers, an HTTP status.
export class OtpError extends Error {
  override readonly name = 'OtpError';
  constructor(
    readonly code: 'BAD_PHONE' | 'BAD_PURPOSE' | 'RESERVED_PURPOSE' | 'COOLDOWN' | 'PHONE_QUOTA' | 'IP_QUOTA' | 'IP_RATE' | 'GLOBAL_RATE' | 'SMS_FAILED',
    message: string,
    readonly status: number,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export class BulkError extends Error {
  override readonly name = 'BulkError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
