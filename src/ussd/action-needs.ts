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
        problems.push(
          `${menu.file}: screens.${s.id}: action "${s.action}" needs ${n.capability} for ${n.for}, which ${ROLE_VAR[n.role]}=${g.name} does not offer`,
        );
      }
    }
  }
  return problems;
}

export type VarsOf = (action: string, params: Record<string, string>) => string[] | undefined;

/**
 * The variables certainly set on arriving at each screen, whichever way the subscriber came:
 * the intersection over every way in (forward data flow to a fixed point). Inputs set their
 * variable, options their `set:`; an action's outcome drops the secrets (PINs, codes) except
 * towards an input asking again for another one (the engine's own rule, compile.ts outAssign).
 * The home key empties everything and goes to start, where nothing is set.
 */
export function varsSetAt(menu: CompiledMenu): Map<string, Set<string>> {
  const at = new Map<string, Set<string>>();
  at.set(menu.start, new Set());
  const queue = [menu.start];
  const into = (target: string, vars: Set<string>) => {
    const cur = at.get(target);
    if (!cur) {
      at.set(target, new Set(vars));
      queue.push(target);
      return;
    }
    let changed = false;
    for (const v of cur)
      if (!vars.has(v)) {
        cur.delete(v);
        changed = true;
      }
    if (changed) queue.push(target);
  };
  while (queue.length) {
    const id = queue.shift()!;
    const s = menu.screens.get(id);
    const have = at.get(id);
    if (!s || !have) continue;
    if (s.kind === 'options') for (const o of s.options!) into(o.next, new Set([...have, ...Object.keys(o.set ?? {})]));
    else if (s.kind === 'input') into(s.next!, new Set([...have, s.input!.var]));
    else if (s.kind === 'action') {
      for (const target of Object.values(s.on ?? {})) {
        const t = menu.screens.get(target);
        into(target, new Set([...have].filter((k) => !menu.secrets.has(k) || (t?.kind === 'input' && t.input?.var !== k))));
      }
    }
  }
  return at;
}

/** One line per action screen some variable of which may be unset when it runs. */
export function varProblems(menus: CompiledMenu[], varsOf: VarsOf): string[] {
  const problems: string[] = [];
  for (const menu of menus) {
    const at = varsSetAt(menu);
    for (const s of menu.screens.values()) {
      if (s.kind !== 'action' || !s.action) continue;
      const have = at.get(s.id);
      if (!have) continue; // unreachable: reported by checkMenu
      for (const v of varsOf(s.action, s.params ?? {}) ?? []) {
        if (!have.has(v))
          problems.push(
            `${menu.file}: screens.${s.id}: action "${s.action}" needs variable "${v}", which is not set on every way to this screen (set it with an input's var or an option's set:)`,
          );
      }
    }
  }
  return problems;
}
