// What a menu's actions need from the gateways, checked before the service starts (and by
// `npm run menus:check`): an action no configured gateway can carry out is refused up front,
// never discovered as a charge-and-refund at run time.
import type { GatewayCapabilities } from '../gateway/types.js';
import type { CompiledMenu } from '../menus/types.js';

export type Role = 'collect' | 'fulfil' | 'sms';

export interface Need {
  role: Role;
  capability: keyof GatewayCapabilities;
  /** What it is for, in the error message ("the vend", "a refund"). */
  for: string;
}

export type NeedsOf = (action: string, params: Record<string, string>) => Need[] | undefined;

const ROLE_VAR: Record<Role, string> = { collect: 'COLLECT_GATEWAY', fulfil: 'FULFIL_GATEWAY', sms: 'SMS_GATEWAY' };

/** One line per screen whose action needs something its role's gateway does not have. */
export function needsProblems(menus: CompiledMenu[], needsOf: NeedsOf, gateways: Record<Role, { name: string; capabilities: GatewayCapabilities }>): string[] {
  const problems: string[] = [];
  for (const menu of menus) {
    for (const s of menu.screens.values()) {
      if (s.kind !== 'action' || !s.action) continue;
      for (const n of needsOf(s.action, s.params ?? {}) ?? []) {
        const g = gateways[n.role];
        if (g.capabilities[n.capability]) continue;
        problems.push(`${menu.file}: screens.${s.id}: action "${s.action}" needs ${n.capability} for ${n.for}, which ${ROLE_VAR[n.role]}=${g.name} does not offer`);
      }
    }
  }
  return problems;
}
