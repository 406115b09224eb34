// A worker process SIGKILLed in the middle of a vend: another worker resumes the job, asks the
// gateway what happened under our reference, and the order is vended exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startWithSandbox, ledger, orderOf, waitState, waitSms, assertInvariants, vendsFor, faults } from './support.js';
import { startSandbox } from '../support/sandbox.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';

const sb = await startSandbox();
// HTTP only: every job runs in the child worker processes below.
const s = await startWithSandbox(sb, { PAYMENTS_JOB_LOCK_MS: '2000' }, { workers: false });
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await s.svc.close();
  await sb.close();
});

function worker(): ChildProcess {
  const c = s.svc.app.config;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    env: {
      ...process.env,
      REDIS_URL: c.REDIS_URL,
      REDIS_PREFIX: c.REDIS_PREFIX,
      GATEWAY_URL: sb.url,
      PUBLIC_URL: s.url,
      LOG_LEVEL: 'silent',
      PAYMENTS_JOB_LOCK_MS: '2000',
      PAYMENTS_RETRY_BASE_MS: '100',
      RECONCILE_EVERY_S: '3600',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function workersOnline(n: number): Promise<void> {
  await waitFor(async () => ((await s.payments.jobs.queue.getWorkers()).length >= n ? true : undefined), 20_000);
}

test('worker killed mid-vend: the job resumes in another worker and vends once', async () => {
  await s.agents.add('+254722400001');
  await s.agents.setPin('+254722400001', '2580');
  const first = worker();
  await workersOnline(1);
  await faults(s, { latencyMs: 2000 });

  const phone = new Phone(s.url, '+254722400001');
  await phone.dial();
  await phone.walk('6', '2', '1', '0712400001', '170');
  const screen = phone.send('2580'); // answered "processing" at the deadline
  const o = await orderOf(s, phone.sessionId);
  // The vend's request is leaving: the step is marked as possibly sent.
  await waitFor(async () => ((await s.payments.store.stepInfo(o.id, 'fulfil')).sent ? true : undefined), 10_000);
  await new Promise((r) => setTimeout(r, 300)); // the airtime request is now at the (slow) gateway
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  assert.equal((await s.payments.store.get(o.id))?.state, 'fulfilling');
  assert.match(await screen, /^END We are processing your request/);

  // The gateway finishes the vend the dead worker asked for.
  await waitFor(async () => (vendsFor(await ledger(s), o.id).length === 1 ? true : undefined), 5000);
  await faults(s, { latencyMs: 0 });
  worker();
  const done = await waitState(s, o.id, 'terminal', 20_000);
  assert.equal(done.state, 'fulfilled');
  assert.equal(vendsFor(await ledger(s), o.id).length, 1, 'vended once');
  const h = await s.payments.store.history(o.id);
  // Settled by the resumed job's lookup of our reference (or by the lookup an IPN triggered),
  // never by sending the vend again.
  assert.ok(
    h.some((e) => /fulfil: found by the gateway's status lookup \(succeeded\)|^status lookup after IPN/.test(e.cause)),
    h.map((e) => e.cause).join(' | '),
  );
  await waitSms(s, '+254722400001', 'Success', 10_000);
  await assertInvariants(s);
});
