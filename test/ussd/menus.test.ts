// Menu loading, validation and `npm run menus:check`, plus the small pure pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ussdModule } from '../../src/ussd/module.js';
import { ActionRegistry } from '../../src/ussd/actions.js';
import { testConfig } from '../support/service.js';
import { MenuError } from '../../src/menus/types.js';
import { toGsm7 } from '../../src/menus/gsm7.js';
import { latestInput, extensionOf } from '../../src/ussd/input.js';
import { formatMoney } from '../../src/menus/format.js';
import { parseKes } from '../../src/menus/validate.js';
import type { AppContext } from '../../src/app-context.js';

const BROKEN = 'test/fixtures/menus/broken';

function check(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/menus-check.ts', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('menus:check passes the default menu', () => {
  const r = check([]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /ok {2}main\.yaml: \d+ screens, \*860\*30#/);
});

test('menus:check catches a missing target', () => {
  const r = check([`${BROKEN}/missing-target.yaml`]);
  assert.equal(r.code, 1);
  assert.match(r.err, /missing-target\.yaml: screens\.home\.options\.0\.next: target screen "nowhere" does not exist/);
});

test('menus:check catches an over-long screen (in Swahili only)', () => {
  const r = check([`${BROKEN}/too-long.yaml`], { USSD_CHANNELS: 'africastalking,hubtel' });
  assert.equal(r.code, 1);
  assert.match(r.err, /too-long\.yaml: screens\.bye\.end\.sw: screen is 188 characters .* limit 182 \(africastalking, hubtel\)/);
  assert.doesNotMatch(r.err, /end\.en/);
  // The limit is a setting: with 200 characters the same file passes.
  assert.equal(check([`${BROKEN}/too-long.yaml`], { SCREEN_MAX_CHARS: '200', USSD_CHANNELS: 'africastalking,hubtel' }).code, 0);
});

test("menus:check checks every enabled channel's limit: Nalo holds 120 characters", () => {
  const r = check([`${BROKEN}/too-long.yaml`], { SCREEN_MAX_CHARS: '200' });
  assert.equal(r.code, 1);
  assert.match(r.err, /screens\.bye\.end\.sw: screen is 188 characters .* limit 120 \(nalo\)/);
  assert.doesNotMatch(r.err, /limit 200/);
  // The default menu fits every channel, and says which limits it was checked against.
  const ok = check([]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /fits 182 \(africastalking, hubtel, arkesel, beem, emergent, safaricom, airtel, infobip\); 120 \(nalo\)/);
});

test('menus:check catches an unreachable screen and a screen with no way out', () => {
  const r = check([`${BROKEN}/unreachable.yaml`]);
  assert.equal(r.code, 1);
  assert.match(r.err, /unreachable\.yaml: screens\.orphan: unreachable from start screen "home"/);
  assert.match(r.err, /unreachable\.yaml: screens\.orphan: no way out/);
});

test('menus:check names file and path for schema errors', () => {
  const r = check([`${BROKEN}/bad-schema.yaml`]);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad-schema\.yaml: screens\.home\.text\.sw: Swahili text \(sw\) is missing/);
  assert.match(r.err, /bad-schema\.yaml: screens\.pay\.input\.min: type amount needs `min` and `max`/);
});

test('menus:check over a whole directory reports every broken file', () => {
  const r = check([], { MENUS_DIR: BROKEN });
  assert.equal(r.code, 1);
  for (const f of ['bad-schema', 'missing-target', 'too-long', 'unreachable']) assert.match(r.err, new RegExp(`${f}\\.yaml: `));
});

test('the service refuses to start with a broken menu (init throws, naming file and path)', async () => {
  const app = { config: testConfig({ MENUS_DIR: BROKEN }), actions: new ActionRegistry() } as unknown as AppContext;
  await assert.rejects(
    async () => ussdModule().init!(app),
    (err: unknown) => {
      assert.ok(err instanceof MenuError);
      assert.match(err.message, /missing-target\.yaml: screens\.home\.options\.0\.next/);
      return true;
    },
  );
  const none = { config: testConfig({ MENUS_DIR: 'test/fixtures/menus/nope' }), actions: new ActionRegistry() } as unknown as AppContext;
  await assert.rejects(async () => ussdModule().init!(none), /menus directory not found/);
});

test('GSM-7: curly quotes, dashes and emoji never reach a handset', () => {
  assert.equal(toGsm7('“Karibu” — it’s 😀 ready…'), '"Karibu" - it\'s ready...');
  assert.equal(toGsm7('Café Ñandú'), 'Café Ñandu'); // é and Ñ are GSM-7, ú is not
  assert.equal(toGsm7('naïve façade'), 'naive facade');
  assert.equal(toGsm7('plain text 123'), 'plain text 123');
});

test('latest input from cumulative text', () => {
  assert.equal(latestInput('', '1', true), '1');
  assert.equal(latestInput('1', '1*2', true), '2');
  assert.equal(latestInput('1*2', '1*2*', true), '');
  assert.equal(latestInput('1*2', '1*2***', true), '**');
  assert.equal(latestInput('1*2', '1*2*0712*5', true), '0712*5');
  assert.equal(latestInput('1*2', '7', false), '7');
  assert.equal(extensionOf('*860*30*1*2#', '*860*30#'), '1*2');
  assert.equal(extensionOf('*860*301#', '*860*30#'), undefined);
  // Dial strings compare without "*" and "#": Hubtel sends 713, 713*4 or *713.
  assert.equal(extensionOf('713*4', '*713#'), '4');
  assert.equal(extensionOf('*713', '*713#'), undefined);
});

test('money: KES typed → minor units → shown', () => {
  assert.equal(parseKes('100'), 10000n);
  assert.equal(parseKes('1,000.5'), 100050n);
  assert.equal(parseKes('10.123'), undefined);
  assert.equal(formatMoney('10000'), '100');
  assert.equal(formatMoney('10050'), '100.50');
});
