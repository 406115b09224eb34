// Typed errors of the 5.7.3 adapter. The 5.7.3 reference documents status codes but no result.code table,
// so codes are ours: PAG_RESULT_<n> keeps the gateway's result.code; the rest name what happened.
// User messages are short GSM-7 text in English and Swahili; gateway text never reaches a phone.
import { GatewayError, type UserMessage } from '../types.js';

const M = {
  failed: { en: 'Payment failed. Please try again later.', sw: 'Malipo hayakufaulu. Jaribu tena baadaye.' },
  cancelled: { en: 'Payment was cancelled.', sw: 'Malipo yameghairiwa.' },
  unknown: { en: 'We are confirming your payment. You will get an SMS.', sw: 'Tunathibitisha malipo yako. Utapokea SMS.' },
  busy: { en: 'Service busy. Please try again later.', sw: 'Huduma ina shughuli. Jaribu tena baadaye.' },
  unsupported: { en: 'This service is not available.', sw: 'Huduma hii haipatikani.' },
  phone: { en: 'Invalid phone number.', sw: 'Nambari ya simu si sahihi.' },
  amount: { en: 'Invalid amount.', sw: 'Kiasi si sahihi.' },
  data: { en: 'More details are needed.', sw: 'Maelezo zaidi yanahitajika.' },
} satisfies Record<string, UserMessage>;

export const pagErrors = {
  result: (code: number | string, message: string, httpStatus?: number) =>
    new GatewayError(`PAG_RESULT_${code}`, `gateway result ${code}: ${message}`, httpStatus !== undefined && httpStatus >= 500, M.failed, httpStatus),
  failed: (message: string) => new GatewayError('PAG_FAILED', `operation failed: ${message}`, false, M.failed),
  cancelled: (message: string) => new GatewayError('PAG_CANCELLED', `operation cancelled: ${message}`, false, M.cancelled),
  unknownStatus: (status: unknown) => new GatewayError('PAG_STATUS_UNKNOWN', `gateway status ${String(status)} (undefined state)`, true, M.unknown),
  outcomeUnknown: (why: string) => new GatewayError('PAG_OUTCOME_UNKNOWN', `outcome unknown: ${why}`, true, M.unknown),
  network: (why: string) => new GatewayError('PAG_NETWORK', `not sent: ${why}`, true, M.busy),
  http: (status: number) => new GatewayError(`PAG_HTTP_${status}`, `gateway answered HTTP ${status}`, status === 429 || status >= 500, M.busy, status),
  badReply: (why: string) => new GatewayError('PAG_BAD_REPLY', `unreadable gateway reply: ${why}`, true, M.unknown),
  unsupported: (what: string) => new GatewayError('UNSUPPORTED', `the Payment API Gateway 5.7.3 has no ${what}`, false, M.unsupported),
  badPhone: (why: string) => new GatewayError('PAG_BAD_PHONE', `phone rejected: ${why}`, false, M.phone),
  badAmount: (why: string) => new GatewayError('PAG_BAD_AMOUNT', `amount rejected: ${why}`, false, M.amount),
  dataRequired: () => new GatewayError('PAG_DATA_REQUIRED', 'gateway needs more data (status 8)', false, M.data),
};
