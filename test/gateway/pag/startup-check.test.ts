// 5.7.3 settings checked at start-up (docs/gateways.md, "5.7.3 providers and currencies"):
// against a real gateway the currency/provider pair is explicit, a documented provider must take
// the configured currency, and provider 14 (the documented simulator that never completes)
// draws a warning. startService runs the check before it opens Redis or a port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/config.js';
import { startService } from '../../../src/app.js';
import { checkGatewaySettings } from '../../../src/gateway/startup-check.js';
import { testConfig } from '../../support/service.js';
import { captureRecords } from '../../support/log.js';

const REAL = { GATEWAY: 'pag', GATEWAY_URL: 'https://gw.example/api' };

function capture() {
  const { logger, lines } = captureRecords<{ level: number; msg: string }>('info');
  return { logger, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

function refused(env: Record<string, string>): string {
  try {
    checkGatewaySettings(testConfig(env), capture().logger);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

test('a real 5.7.3 gateway without an explicit provider and currency is refused, naming both', () => {
  assert.match(refused(REAL), /^config: PAG_PROVIDER_ID, PAG_CURRENCY: /);
  assert.match(refused({ ...REAL, PAG_PROVIDER_ID: '2087' }), /PAG_CURRENCY/, 'currency defaulted, not chosen');
  assert.match(refused({ ...REAL, PAG_CURRENCY: 'KES' }), /PAG_PROVIDER_ID/);
});

test('a documented provider must take the configured currency', () => {
  assert.match(refused({ ...REAL, PAG_PROVIDER_ID: '2087', PAG_CURRENCY: 'KES' }), /provider 2087 \(Airtel, Malawi\) takes MWK, not PAG_CURRENCY=KES/);
  assert.match(refused({ ...REAL, PAG_PROVIDER_ID: '2119', PAG_CURRENCY: 'TZS' }), /takes ZMW/);
  const ok = capture();
  checkGatewaySettings(testConfig({ ...REAL, PAG_PROVIDER_ID: '2110', PAG_CURRENCY: 'TZS' }), ok.logger);
  assert.deepEqual(ok.warnings(), []);
});

test('provider 14 with a real gateway URL starts, with a warning that it never completes', () => {
  const c = capture();
  checkGatewaySettings(testConfig({ ...REAL, PAG_PROVIDER_ID: '14', PAG_CURRENCY: 'KES' }), c.logger);
  assert.equal(c.warnings().length, 1);
  assert.match(c.warnings()[0]!, /14 is the gateway's test simulator: its payments stay "in progress" and never complete/);
});

test('an undocumented provider (e.g. for KES) is accepted when explicit, with a reminder', () => {
  const c = capture();
  checkGatewaySettings(testConfig({ ...REAL, PAG_PROVIDER_ID: '3001', PAG_CURRENCY: 'KES' }), c.logger);
  assert.match(c.warnings()[0]!, /not in the documented provider list/);
});

test('the embedded sandbox and the Kyanda gateway need none of it', () => {
  const c = capture();
  checkGatewaySettings(testConfig({ GATEWAY: 'pag' }), c.logger);
  checkGatewaySettings(testConfig({ GATEWAY: 'pag', PAG_PROVIDER_ID: '14' }), c.logger);
  checkGatewaySettings(testConfig({ GATEWAY: 'kyanda', GATEWAY_URL: 'https://kemrut.com/api/v2' }), c.logger);
  assert.deepEqual(c.warnings(), []);
  checkGatewaySettings(testConfig({ GATEWAY: 'pag', PAG_PROVIDER_ID: '2087' }), c.logger);
  assert.match(c.warnings()[0]!, /embedded sandbox knows providers 14 .* and 40/);
});

test('a gateway role set to pag is checked too', () => {
  const config = testConfig({ GATEWAY: 'kyanda', GATEWAY_URL: 'https://gw.example/api' });
  (config as unknown as Record<string, unknown>).COLLECT_GATEWAY = 'pag';
  assert.throws(() => checkGatewaySettings(config, capture().logger), ConfigError);
});

test('startService refuses before opening anything; with 14 it starts and logs the warning', async () => {
  await assert.rejects(
    startService(testConfig(REAL), { modules: [], workers: false, http: false, logger: capture().logger }),
    (e: unknown) => e instanceof ConfigError && /PAG_PROVIDER_ID/.test(e.message),
  );
  const c = capture();
  const svc = await startService(testConfig({ ...REAL, PAG_PROVIDER_ID: '14', PAG_CURRENCY: 'KES' }), { modules: [], workers: false, logger: c.logger });
  try {
    assert.ok(c.warnings().some((m) => /test simulator/.test(m)));
  } finally {
    await svc.close();
  }
});
