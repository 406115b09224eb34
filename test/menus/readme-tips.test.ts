// The worked example (menus/tips.yaml) of the README and docs/menus.md is run as written: its YAML
// block is read from README.md, checked by `npm run menus:check`, served, dialled and paid.
// Before, the example passed the check and then failed at the confirm: the checkout action
// needs a `merchant`, and the check now says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService } from '../support/service.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

function workedExample(file: string): string {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('Worked example: save it as `menus/tips.yaml`');
  assert.ok(at > 0, `${file} has the worked example`);
  const m = /```yaml\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(m, `${file}'s worked example has a yaml block`);
  return m[1]!;
}

/** The README's copy is the one dialled below; docs/menus.md prints the same block, checked here. */
function readmeTips(): string {
  const tips = workedExample('README.md');
  assert.equal(workedExample('docs/menus.md'), tips, 'README and docs/menus.md print the same worked example');
  return tips;
}

function check(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/menus-check.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('menus:check refuses the old tips example: the checkout action needs a merchant', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tips-'));
  try {
    // The example as the README used to print it: nothing sets `merchant`.
    const old = readmeTips().replace(/, set: \{ merchant: TIPS4040 \}|, merchant: TIPS4040/g, '');
    assert.doesNotMatch(old, /merchant/);
    writeFileSync(join(dir, 'tips.yaml'), old);
    const r = check([join(dir, 'tips.yaml')]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /tips\.yaml: screens\.pay: action "checkout" needs variable "merchant", which is not set on every way to this screen/);
    assert.doesNotMatch(r.err, /needs variable "amount"/);
    // Set on one way only (KES 50) is not enough: "Other amount" reaches the same action without it.
    writeFileSync(join(dir, 'tips.yaml'), readmeTips().replace('next: amount, set: { merchant: TIPS4040 }', 'next: amount'));
    assert.match(check([join(dir, 'tips.yaml')]).err, /screens\.pay: action "checkout" needs variable "merchant"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the README tips example passes menus:check and a tip is dialled and paid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tips-'));
  writeFileSync(join(dir, 'tips.yaml'), readmeTips());
  copyFileSync('menus/main.yaml', join(dir, 'main.yaml'));
  const r = check([join(dir, 'tips.yaml')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /ok {2}tips\.yaml: 8 screens, \*860\*40#/);
  const svc = await startTestService({ MENUS_DIR: dir, SANDBOX_CHECKOUT_DELAY_MS: '100', CHECKOUT_DELAY_MS: '100' });
  try {
    const phone = new Phone(svc.url, '+254712300440', '*860*40#');
    assert.equal(await phone.dial(), 'CON Tip a waiter\n1 KES 50\n2 Other amount');
    assert.equal(await phone.send('1'), 'CON Tip KES 50?\n1 Confirm\n2 Cancel');
    assert.equal(await phone.send('1'), 'END You will receive an M-PESA prompt for KES 50.');
    const auth = { authorization: 'Bearer test-api-token-0123456789' };
    const order = await waitFor(async () => {
      const list = (await (await fetch(`${svc.url}/api/orders?phone=0712300440`, { headers: auth })).json()) as {
        orders: Array<{ id: string; state: string }>;
      };
      return list.orders.find((o) => o.state === 'fulfilled');
    }, 15_000);
    const full = (await (await fetch(`${svc.url}/api/orders/${order.id}`, { headers: auth })).json()) as {
      order: { merchant: string; amountMinor: number; kind: string };
    };
    assert.equal(full.order.merchant, 'TIPS4040');
    assert.equal(full.order.amountMinor, 5000);
    assert.equal(full.order.kind, 'merchant');
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
