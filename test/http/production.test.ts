// Production is not the demo: the embedded sandbox, its credentials and its open test routes are
// refused unless asked for explicitly, and the operators' API needs a real token.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/app.js';
import { testConfig } from '../support/service.js';

const TOKEN = 'prod-token-0123456789-0123456789-abc';
const running: RunningService[] = [];
after(async () => {
  for (const s of running) await s.close();
});

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected the configuration to be refused');
}

test('production without a gateway URL refuses to start, naming GATEWAY_URL and SANDBOX=1', () => {
  const m = refusal({ NODE_ENV: 'production', API_TOKEN: TOKEN });
  assert.match(m, /set GATEWAY_URL .* or SANDBOX=1 to run the embedded sandbox on purpose/);
});

test('production with a real gateway refuses the documented sandbox credentials and a missing or short API_TOKEN', () => {
  const m = refusal({ NODE_ENV: 'production', GATEWAY_URL: 'https://kemrut.com/api/v2' });
  assert.match(m, /GATEWAY_SECRET is the sandbox's documented value "sandbox-secret"/);
  assert.match(m, /GATEWAY_API_KEY is the sandbox's documented value "sandbox-api-key"/);
  assert.match(m, /MERCHANT_ID is the sandbox's documented value "sandbox-merchant"/);
  assert.match(m, /API_TOKEN must be set to at least 32 characters/);
  assert.match(
    refusal({
      NODE_ENV: 'production',
      GATEWAY_URL: 'https://kemrut.com/api/v2',
      GATEWAY_SECRET: 's3cr3t',
      GATEWAY_API_KEY: 'k',
      MERCHANT_ID: 'm',
      API_TOKEN: 'short-token-0123456',
    }),
    /API_TOKEN must be set to at least 32/,
  );
  // Everything real: accepted.
  const c = loadConfig({
    NODE_ENV: 'production',
    GATEWAY_URL: 'https://kemrut.com/api/v2',
    GATEWAY_SECRET: 's3cr3t',
    GATEWAY_API_KEY: 'k',
    MERCHANT_ID: 'm',
    API_TOKEN: TOKEN,
  });
  assert.equal(c.embeddedSandbox, false);
});

test('production with SANDBOX=1: the sandbox runs, and its test routes need the API token', async () => {
  const svc = await startService(testConfig({ NODE_ENV: 'production', SANDBOX: '1', API_TOKEN: TOKEN }));
  running.push(svc);
  for (const [method, path] of [
    ['GET', '/sandbox/_ledger'],
    ['GET', '/sandbox/_sms'],
    ['POST', '/sandbox/_reset'],
    ['POST', '/sandbox/_faults'],
    ['GET', '/sandbox/_ipn'],
  ] as const) {
    const open = await fetch(`${svc.url}${path}`, { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
    assert.equal(open.status, 401, `${method} ${path} without the token`);
  }
  const ok = await fetch(`${svc.url}/sandbox/_ledger`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  // The sandbox's API itself (what the service calls) works as before.
  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
});

test('in development the sandbox and its test routes stay open (npm start out of the box)', async () => {
  const svc = await startService(testConfig());
  running.push(svc);
  assert.equal((await fetch(`${svc.url}/sandbox/_ledger`)).status, 200);
});
