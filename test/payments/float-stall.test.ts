// A float sale whose order and vend are queued, then Redis stalls while the screen waits for the
// result: the agent must be told "processing, you will receive an SMS" (the vend goes through),
// never "could not be completed", which would have the agent sell it again.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startPrivateRedis, type PrivateRedis } from '../../scripts/lib/private-redis.mjs';
import { assertInvariants, faults, ledger, startWithSandbox, vendsFor, waitSms, waitState, type Svc } from './support.js';
import { startSandbox, type Sandbox } from '../support/sandbox.js';
import { Phone } from '../support/ussd.js';
import { sleep } from '../support/wait.js';

let redis: PrivateRedis;
let sb: Sandbox;
let s: Svc;
const AGENT = '+254722700001';

before(async () => {
  redis = await startPrivateRedis({ stderr: 'ignore' });
  sb = await startSandbox();
  s = await startWithSandbox(sb, { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1000' });
  await s.agents.add(AGENT);
  await s.agents.setPin(AGENT, '2580');
});
after(async () => {
  redis.proc.kill('SIGCONT');
  await s.svc.close();
  await sb.close();
  await redis.stop();
});

test('Redis stalls while a float sale waits for its vend: the screen says processing, the vend and its SMS follow once', async () => {
  await faults(s, { latencyMs: 2500 }); // the vend takes a while at the gateway
  const phone = new Phone(s.url, AGENT);
  await phone.dial();
  await phone.walk('6', '2', '1', '0711223344', '50');
  const reply = phone.send('2580');
  // The order exists and its vend is on its way: now Redis stops answering for a while.
  let id = '';
  for (let i = 0; i < 200 && !id; i++) {
    for (const oid of await s.payments.store.ids()) if ((await s.payments.store.get(oid))?.state === 'fulfilling') id = oid;
    if (!id) await sleep(10);
  }
  assert.ok(id, 'the float order is fulfilling');
  redis.proc.kill('SIGSTOP');
  await sleep(1_600);
  redis.proc.kill('SIGCONT');
  await faults(s, { latencyMs: 0 });
  assert.match(await reply, /^END We are processing your request\. You will receive an SMS\./);
  assert.equal((await waitState(s, id, ['fulfilled'], 15_000)).state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), id).length, 1);
  await waitSms(s, AGENT, id);
  await assertInvariants(s);
});
