// STUB (issue 3): replaced by the Kyanda-family API v2 adapter.
import type { AppContext } from '../../app-context.js';
import type { Gateway } from '../types.js';

export interface GatewayDeps extends Pick<AppContext, 'config' | 'redis' | 'logger' | 'key'> {}

export function createKyandaGateway(_app: GatewayDeps, _baseUrl: string): Gateway {
  const notYet = async (): Promise<never> => { throw new Error('kyanda gateway not implemented'); };
  return {
    name: 'kyanda', balance: notYet, transactionStatus: notYet, verifyTransaction: notYet, airtime: notYet,
    pinAirtime: notYet, payBill: notYet, checkout: notYet, mobilePayout: notYet, bankPayout: notYet, b2b: notYet,
    sendSms: notYet, bulkSms: notYet, registerCallback: notYet, telcoCheck: notYet,
    parseCallback: () => null, close: async () => undefined,
  };
}
