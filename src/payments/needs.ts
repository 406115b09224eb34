// What each money and agent action needs from the gateway roles (src/ussd/action-needs.ts).
import type { Need, NeedsOf } from '../ussd/action-needs.js';

function purchase(vend: Need['capability'], what: string) {
  return (params: Record<string, string>): Need[] =>
    params.pay === 'float'
      ? [{ role: 'fulfil', capability: vend, for: what }]
      : [
          { role: 'collect', capability: 'checkout', for: "the customer's payment" },
          { role: 'fulfil', capability: vend, for: what },
          { role: 'fulfil', capability: 'payouts', for: 'a refund when the vend fails' },
        ];
}

export const ACTION_NEEDS: Record<string, (params: Record<string, string>) => Need[]> = {
  airtime: purchase('airtime', 'the airtime'),
  bundle: purchase('airtime', 'the data bundle'),
  paybill: purchase('bills', 'the bill payment'),
  checkout: () => [
    { role: 'collect', capability: 'checkout', for: "the customer's payment" },
    { role: 'fulfil', capability: 'payouts', for: 'refunding an underpayment' },
  ],
  balance: () => [{ role: 'fulfil', capability: 'balance', for: 'the float balance' }],
  agent_otp_send: () => [{ role: 'sms', capability: 'sms', for: "the agent's code" }],
};

export const needsOf: NeedsOf = (action, params) => ACTION_NEEDS[action]?.(params);

/**
 * The variables each action reads from the session (ctx.values), given a screen's params:
 * `npm run menus:check` and start-up refuse a menu in which one of them may be unset when the
 * action runs (the checkout action without a `merchant` fails at the confirm otherwise).
 */
export const ACTION_VARS: Record<string, (params: Record<string, string>) => string[]> = {
  airtime: (p) => ['amount', ...(p.pay === 'float' ? ['pin'] : [])],
  bundle: (p) => ['bundle', ...(p.pay === 'float' ? ['pin'] : [])],
  paybill: (p) => ['biller', 'account', 'amount', ...(p.pay === 'float' ? ['pin'] : [])],
  checkout: () => ['amount', 'merchant'],
  balance: () => ['pin'],
  agent_activate: () => ['new_pin', 'otp'],
  agent_pin_reset: () => ['new_pin', 'otp'],
  agent_pin_change: () => ['pin', 'new_pin'],
};

export const varsOf = (action: string, params: Record<string, string>): string[] | undefined => ACTION_VARS[action]?.(params);
