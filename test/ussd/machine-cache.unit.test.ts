// The engine's caches around xstate must give exactly what plain xstate gives: the same next
// snapshot (value, context, status) and the same actions, for a walk through the default menu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { loadMenuDir } from '../../src/menus/load.js';
import { restoreSnapshot, steppingLogic } from '../../src/ussd/machine-cache.js';
import type { MenuContext, MenuEvent } from '../../src/menus/types.js';

const [menu] = loadMenuDir('menus', { defaultServiceCode: '*860*30#', keys: { back: '0', home: '00', more: '98' }, screenMaxChars: 182 });
const machine = menu!.machine;
const view = (s: AnyMachineSnapshot) => ({ value: s.value, context: s.context, status: s.status, tags: [...s.tags] });
const input = (i: string, n: number): MenuEvent => ({ type: 'IN', input: i, key: `k:${n}`, lim: 182 });

test("initialTransition through the stepping logic equals the real machine's", () => {
  const ctx: MenuContext = { v: {}, h: [], pg: 0, e: '', lang: 'sw', ph: '+254712000001' };
  const [a, aa] = initialTransition(machine, ctx);
  const [b, ba] = initialTransition(steppingLogic(machine), ctx);
  assert.deepEqual(view(b), view(a));
  assert.deepEqual(ba, aa);
  assert.equal(b.machine, machine);
});

test('restore + transition through the caches equals resolveState + transition, hop by hop', () => {
  // Buy airtime → other number → a bad number → a good one → an amount → confirm (runs an action),
  // then its outcome; plus back, more and a wrong option on the way.
  const inputs = ['1', '9', '2', '0', '2', 'abc', '0733000111', '5', '100', '1'];
  let snap = initialTransition(machine, { v: {}, h: [], pg: 0, e: '', lang: 'en', ph: '+254712000002' } satisfies MenuContext)[0];
  const step = steppingLogic(machine);
  let sawRun = false;
  for (const [n, i] of inputs.entries()) {
    const stored = JSON.parse(JSON.stringify({ v: snap.value, c: snap.context })) as { v: string; c: MenuContext };
    const real = machine.resolveState({ value: stored.v, context: stored.c });
    const cached = restoreSnapshot(machine, stored.v, JSON.parse(JSON.stringify(stored.c)) as MenuContext);
    assert.deepEqual(view(cached), view(real), `restore at ${stored.v}`);
    const [a, aa] = transition(machine, real, input(i, n));
    const [b, ba] = transition(step, cached, input(i, n));
    assert.deepEqual(view(b), view(a), `after "${i}" at ${stored.v}`);
    assert.deepEqual(
      ba.map((x) => [x.type, x.params]),
      aa.map((x) => [x.type, x.params]),
    );
    if (aa.some((x) => (x.type as string) === 'run')) {
      sawRun = true;
      const out = { type: 'OUT', outcome: 'processing', vars: {} } as const;
      assert.deepEqual(view(transition(step, b, out)[0]), view(transition(machine, a, out)[0]));
    }
    snap = a;
  }
  assert.ok(sawRun, 'the walk reaches an action');
  assert.throws(() => restoreSnapshot(machine, 'no_such_screen', snap.context as MenuContext));
});
