// ROLE=web serves HTTP without workers; ROLE=worker (npm run worker) runs the workers without
// HTTP. Split apart, a purchase taken by the web role waits for its checkout until a worker
// runs, and then completes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService } from '../../src/app.js';
import { testConfig } from '../support/service.js';
import { start, ledger, orderOf, waitState, FAST_ENV } from '../payments/support.js';
import { startSandbox } from '../support/sandbox.js';
import { PAIR_ENV } from './support.js';
import { hop } from './scenarios.js';

const sandbox = await startSandbox();
const prefix = `w${randomUUID().slice(0, 8)}:`;
const env = { ...PAIR_ENV, REDIS_PREFIX: prefix, GATEWAY_URL: sandbox.url };
const web = await start({ ...env, ROLE: 'web' });
after(async () => {
  await web.svc.close();
  await sandbox.close();
});

test('ROLE=web answers USSD but runs no job; ROLE=worker runs them without serving HTTP', async () => {
  assert.equal((await web.svc.app.gateway.registerCallback(`${web.url}/callbacks/kyanda`)).kind, 'succeeded');
  const sid = `ATUid_${randomUUID()}`;
  const phone = '+254712400001';
  for (const text of ['', '1', '1*1', '1*1*100']) await hop(web.url, sid, phone, text);
  assert.match(await hop(web.url, sid, phone, '1*1*100*1'), /^END You will receive an M-PESA prompt/);
  const o = await orderOf(web, sid);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await ledger({ ...web, gw: sandbox.url })).filter((e) => e.endpoint === 'checkout').length, 0, 'no worker, no checkout yet');

  const worker = await startService(testConfig({ ...FAST_ENV, ...env, ROLE: 'worker', PUBLIC_URL: web.url }));
  try {
    assert.equal(worker.server.listening, false, 'the worker serves no HTTP');
    const done = await waitState({ ...web, gw: sandbox.url }, o.id, 'terminal', 15_000);
    assert.equal(done.state, 'fulfilled');
  } finally {
    await worker.close();
  }
});
