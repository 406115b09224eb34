// Stand-in handlers for every action the default menu names, so the menu works end to end
// before the money flows exist. The payments module re-registers the real ones after us.
import { createHash } from 'node:crypto';
import type { ActionContext, ActionHandler, ActionRegistry, ActionResult } from './actions.js';

function ref(ctx: ActionContext): string {
  return `PH${createHash('sha1').update(ctx.idempotencyKey).digest('hex').slice(0, 8).toUpperCase()}`;
}

const ok = (vars: Record<string, string> = {}): Promise<ActionResult> => Promise.resolve({ outcome: 'success', vars });

export const PLACEHOLDER_ACTIONS: Record<string, ActionHandler> = {
  airtime: (ctx) => ok({ ref: ref(ctx) }),
  bundle: (ctx) => ok({ ref: ref(ctx) }),
  paybill: (ctx) => ok({ ref: ref(ctx), token: ctx.values.biller === 'KPLC_PREPAID' ? '1234-5678-9012-3456-7890' : '' }),
  checkout: (ctx) => ok({ ref: ref(ctx) }),
  balance: () => ok({ float: '0.00', earnings: '0.00' }),
  agent_otp_send: () => ok(),
  agent_activate: () => ok(),
  agent_pin_change: () => ok(),
  agent_pin_reset: () => ok(),
};

export function registerPlaceholders(actions: ActionRegistry): void {
  for (const [name, fn] of Object.entries(PLACEHOLDER_ACTIONS)) actions.register(name, fn);
}
