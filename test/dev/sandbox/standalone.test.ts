// `npm run sandbox`: the sandbox alone on PORT, answering at the root and under /sandbox.
// Also: request logs carry endpoint, outcome and latency, and no secrets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort } from '../../../scripts/lib/private-redis.mjs';
import { captureLogger } from '../../support/log.js';
import { startTestService } from '../../support/service.js';
import { sandboxApi, sign, sms } from './support.js';
import { MERCHANT, API_KEY, SECRET } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';

test('standalone sandbox serves the API at / and /sandbox on PORT', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/dev/sandbox/standalone.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', REDIS_URL: 'redis://127.0.0.1:1' },
    stdio: 'ignore',
  });
  after(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, { timeoutMs: 20_000, everyMs: 100 });
  for (const prefix of ['', '/sandbox']) {
    const r = await fetch(`${base}${prefix}/api-link`, {
      method: 'POST',
      headers: { apiKey: API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ MerchantID: MERCHANT, signature: sign(MERCHANT) }),
    });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as Record<string, unknown>).status_code, '0000');
  }
  assert.equal((await fetch(`${base}/sandbox/_ledger`)).status, 200);
  child.kill('SIGTERM');
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, 5000);
});

test('each request is logged with endpoint, outcome code and latency, without secrets', async () => {
  const { logger, lines } = captureLogger('info');
  const svc = await startTestService({}, { workers: false, logger });
  try {
    const gw = sandboxApi(svc.url);
    const body = sms({ otp: '735911' });
    assert.equal((await gw.post('/billing/v1/sms/send', body)).body.status_code, '0000');
    assert.equal((await gw.post('/api-link', { MerchantID: MERCHANT, signature: 'bad' })).body.status_code, '1104');
    const reqs = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'sandbox request');
    assert.deepEqual(
      reqs.map((r) => [r.endpoint, r.status_code, r.http]),
      [
        ['sms', '0000', 200],
        ['balance', '1104', 400],
      ],
    );
    assert.ok(reqs.every((r) => typeof r.ms === 'number'));
    const all = lines.join('\n');
    for (const secret of [API_KEY, SECRET, body.signature, '735911', '0712345678']) assert.ok(!all.includes(secret), `log leaks ${secret}`);
  } finally {
    await svc.close();
  }
});
