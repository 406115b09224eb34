// An order's SMS survives a crash between the move that settles the order and the queueing of
// the SMS: the retried job (a fulfil step, an IPN's settle) finds the order settled and queues
// the missing SMS; it is never sent twice.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { seedOrder, smsLog, start, type Svc } from './support.js';
import { sleep } from '../support/wait.js';

let s: Svc;
before(async () => {
  s = await start();
});
after(() => s.svc.close());

const smsTo = async (phone: string) => (await smsLog(s)).filter((m) => m.recipients.includes(phone));

async function waitSmsCount(phone: string, n: number): Promise<void> {
  for (let i = 0; i < 80; i++) {
    if ((await smsTo(phone)).length >= n) return;
    await sleep(50);
  }
  assert.fail(`expected ${n} SMS to ${phone}, got ${(await smsTo(phone)).length}`);
}

test('a fulfil job re-run after its order was fulfilled without the receipt queued sends the receipt, once', async () => {
  // As left by a worker killed right after the move to fulfilled.
  const id = await seedOrder(s, 'notice-lost-fulfil', '+254712600001', 5_000, ['awaiting_payment', 'paid', 'fulfilling', 'fulfilled']);
  await s.payments.enqueue(id, 'fulfil');
  await waitSmsCount('+254712600001', 1);
  await s.payments.redrive(id, 'fulfil');
  await sleep(500);
  assert.equal((await smsTo('+254712600001')).length, 1, 'never twice');
});

test('an outcome settled again (an IPN job retried) for an order cancelled without its SMS sends the cancellation, once', async () => {
  const id = await seedOrder(s, 'notice-lost-cancel', '+254712600002', 5_000, ['awaiting_payment', 'cancelled']);
  await s.payments.settle(id, 'checkout', { status: 'cancelled', message: 'Request cancelled by user' }, 'IPN lookup (retried)');
  await waitSmsCount('+254712600002', 1);
  assert.match((await smsTo('+254712600002'))[0]!.message, /was not completed. You were not charged/);
  await s.payments.settle(id, 'checkout', { status: 'cancelled' }, 'IPN lookup (retried again)');
  await sleep(500);
  assert.equal((await smsTo('+254712600002')).length, 1, 'never twice');
});

test('an order SMS whose first send reached the gateway before its worker died is not sent again', async () => {
  const phone = '+254712600003';
  const id = await seedOrder(s, 'notice-sent-then-crash', phone, 5_000, ['awaiting_payment', 'paid', 'fulfilling', 'fulfilled']);
  // The first run: marked as possibly sent, on the wire, then the worker was killed.
  await s.payments.store.markSent(id, 'smsreceipt');
  const first = await s.svc.app.gateways.sms.sendSms({ phone, message: 'Success: first copy' }, { reference: `${id}-smsreceipt`, priority: 'notice' });
  assert.notEqual(first.kind, 'failed');
  await s.payments.notify(id, 'receipt'); // the job runs again
  await sleep(1_000);
  assert.equal((await smsTo(phone)).length, 1, 'one receipt, not two');
  assert.ok((await s.payments.store.history(id)).some((h) => /found sent by the gateway's lookup/.test(h.cause)));
});
