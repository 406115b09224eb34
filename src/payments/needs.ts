// What each money and agent action needs from the gateway roles (src/ussd/action-needs.ts).
import type { Need, NeedsOf } from '../ussd/action-needs.js';


function purchase(vend: Need['capability'], what: string) {
  return (params: Record<string, string>): Need[] => params.pay === 'float'
    ? [{ role: 'fulfil', capability: vend, for: what }]
    : [
      { role: 'collect', capability: 'checkout', for: 'the customer\'s payment' },
      { role: 'fulfil', capability: vend, for: what },
      { role: 'fulfil', capability: 'payouts', for: 'a refund when the vend fails' },
    ];
}

export const ACTION_NEEDS: Record<string, (params: Record<string, string>) => Need[]> = {
  airtime: purchase('airtime', 'the airtime'),
  bundle: purchase('airtime', 'the data bundle'),
  paybill: purchase('bills', 'the bill payment'),
  checkout: () => [
    { role: 'collect', capability: 'checkout', for: 'the customer\'s payment' },
    { role: 'fulfil', capability: 'payouts', for: 'refunding an underpayment' },
  ],
  balance: () => [{ role: 'fulfil', capability: 'balance', for: 'the float balance' }],
  agent_otp_send: () => [{ role: 'sms', capability: 'sms', for: 'the agent\'s code' }],
};

export const needsOf: NeedsOf = (action, params) => ACTION_NEEDS[action]?.(params);
