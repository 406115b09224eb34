// Per-menu caches around the pure xstate functions (docs/architecture.md, rule 4, keeps transition() and
// initialTransition() as the only way the engine moves a session). Both avoid work xstate would
// redo on every hop with the same result; test/ussd/machine-cache.unit.test.ts checks they agree
// with plain xstate, so an xstate upgrade that changes these internals fails there first.
import { initialTransition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { MenuContext } from '../menus/types.js';

const restored = new WeakMap<AnyStateMachine, Map<string, AnyMachineSnapshot>>();
const stepping = new WeakMap<AnyStateMachine, AnyStateMachine>();

/**
 * machine.resolveState({ value, context }) for a stored state: what it derives from the state
 * value (its nodes, tags, status) never changes, so it is resolved once per state and each hop
 * only puts its own context (and fresh children and history, as resolveState does) on a copy.
 */
export function restoreSnapshot(machine: AnyStateMachine, value: string, context: MenuContext): AnyMachineSnapshot {
  let byValue = restored.get(machine);
  if (!byValue) {
    byValue = new Map();
    restored.set(machine, byValue);
  }
  let t = byValue.get(value);
  if (!t) {
    t = machine.resolveState({ value, context: {} });
    byValue.set(value, t); // only values the machine accepted (resolveState throws otherwise)
  }
  return { ...t, context, children: {}, historyValue: {} } as AnyMachineSnapshot;
}

/**
 * The machine as given to transition()/initialTransition(). Both build a throw-away actor whose
 * constructor eagerly computes the machine's initial snapshot (a whole initial macrostep) and
 * never uses it: this view of the machine hands that constructor one computed once. Everything
 * else is the real machine's: its transition(), the snapshot passed in, and, when
 * initialTransition() asks with the session's context as input, its real initial snapshot.
 */
export function steppingLogic(machine: AnyStateMachine): AnyStateMachine {
  let logic = stepping.get(machine);
  if (!logic) {
    const initial = initialTransition(machine, { v: {}, h: [], pg: 0, e: '', lang: 'en', ph: '' } satisfies MenuContext)[0];
    const real = machine.getInitialSnapshot as (scope: unknown, input: unknown) => AnyMachineSnapshot;
    const getInitialSnapshot = (scope: unknown, input?: unknown) => (input === undefined ? initial : real.call(machine, scope, input));
    logic = Object.create(machine, { getInitialSnapshot: { value: getInitialSnapshot } }) as AnyStateMachine;
    stepping.set(machine, logic);
  }
  return logic;
}
