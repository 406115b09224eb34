// Platform codes the sandbox answers, their messages and the HTTP status paired with each
// (docs/gateways.md, "Platform codes"). Clients decide by status_code; the HTTP status is a courtesy.

export const MESSAGES: Record<string, string> = {
  '0000': 'Request processed successfully.',
  '1100': 'Transaction created - pending processing.',
  '1101': 'Invalid Merchant ID.',
  '1102': 'Authentication failed.',
  '1103': 'Forbidden access.',
  '1104': 'Signature mismatch.',
  '1105': 'Payment services unavailable.',
  '1106': 'Airtime service unavailable.',
  '1107': 'Insufficient float balance.',
  '1108': 'Missing parameter.',
  '1109': 'Parameter validation error.',
  '1201': 'Invalid bank code.',
  '5000': 'Unexpected error - contact support with transaction ref.',
  '6001': 'Cannot register URL.',
  '6002': 'Invalid URL format.',
  '7001': 'Transaction not found.',
  '8001': 'Invalid account number format.',
  '8002': 'Invalid phone number format.',
  '8003': 'Invalid Telco.',
  '8004': 'Invalid amount format.',
  '8005': 'Amount limit exceeded.',
  '8006': 'Duplicate transmission.',
  '9001': 'Invalid phone number format.',
  '9002': 'Invalid transaction channel.',
  '9003': 'Invalid amount format.',
  '9004': 'Amount limit exceeded.',
  '9005': 'Duplicate transmission.',
};

export function isPlatformErrorCode(code: string): boolean {
  return code in MESSAGES && code !== '0000' && code !== '1100';
}

export function httpStatusFor(code: string): number {
  switch (code) {
    case '1102':
      return 401;
    case '1103':
      return 403;
    case '7001':
      return 404;
    case '1105':
    case '1106':
      return 503;
    case '5000':
      return 500;
    default:
      return 400;
  }
}

/** A rejection with a platform code; `detail` names the field (never a secret). */
export class SandboxError extends Error {
  constructor(
    readonly code: string,
    readonly detail?: string,
  ) {
    super(detail ? `${MESSAGES[code] ?? 'Error.'} (${detail})` : (MESSAGES[code] ?? 'Error.'));
    this.name = 'SandboxError';
  }
}

export function errorBody(code: string, message?: string): Record<string, string> {
  return { status: 'Failed', status_code: code, message: message ?? MESSAGES[code] ?? 'Error.' };
}
