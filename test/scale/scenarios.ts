// What every topology must do with two instances sharing it (test/scale/*.test.ts run these on
// one node, a Sentinel set and a Cluster): one session served by both, duplicates advancing
// once, a purchase with its IPN, an OTP, a 2,500-number bulk send.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { post } from '../support/ussd.js';
import { ledger, orderOf, vendsFor, waitState, waitSms, type Svc } from '../payments/support.js';
import { checkInvariants } from '../../src/payments/invariants.js';
import { api } from '../support/api.js';
import { nsn, uniqueNumbers } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import type { Pair } from './support.js';

/** One hop of an Africa's Talking session on the instance at `url`. */
export async function hop(url: string, sessionId: string, phone: string, text: string): Promise<string> {
  const r = await post(url, { sessionId, phoneNumber: phone, text });
  assert.equal(r.status, 200, r.body);
  return r.body;
}

export async function interchangeable(p: Pair): Promise<void> {
  const phone = '+254712300001';
  const sid = `ATUid_${randomUUID()}`;
  const screens: string[] = [];
  // a, b, a, b: each instance takes over where the other left the session.
  screens.push(await hop(p.a.url, sid, phone, ''));
  screens.push(await hop(p.b.url, sid, phone, '1'));
  screens.push(await hop(p.a.url, sid, phone, '1*1'));
  screens.push(await hop(p.b.url, sid, phone, '1*1*100'));
  assert.match(screens[0]!, /^CON /);
  assert.match(screens[3]!, /^CON Buy airtime KES 100/);
  assert.equal(new Set(screens).size, 4, 'every hop moved the session on');
  const n = await p.a.svc.app.redis.hget(p.sessKey(sid, phone), 'n');
  assert.equal(n, '4', 'one record, four hops, wherever they were served');
}

export async function duplicates(p: Pair): Promise<void> {
  const phone = '+254712300002';
  const sid = `ATUid_${randomUUID()}`;
  await hop(p.a.url, sid, phone, '');
  await hop(p.b.url, sid, phone, '1');
  // The aggregator's retries of one request, overlapping, spread over both instances.
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? p.a.url : p.b.url, { sessionId: sid, phoneNumber: phone, text: '1*1' })));
  const answered = replies.filter((r) => r.status === 200 && r.body.startsWith('CON '));
  const bodies = new Set(answered.map((r) => r.body));
  assert.equal(bodies.size, 1, `one screen for every copy that was answered: ${[...bodies].join(' | ')}`);
  // A copy that found the session busy may be told so, but most are answered with the screen.
  assert.ok(answered.length >= 10, `${answered.length} of 20 copies got the screen`);
  assert.equal(await p.a.svc.app.redis.hget(p.sessKey(sid, phone), 'n'), '3', 'advanced once');
  assert.match(await hop(p.b.url, sid, phone, '1*1*50'), /^CON Buy airtime KES 50/);
}

/** Dial on a, answer on b, confirm on a: the order, its checkout, IPN, vend and receipt. */
export async function purchase(p: Pair): Promise<void> {
  const phone = '+254712300003';
  const sid = `ATUid_${randomUUID()}`;
  await hop(p.a.url, sid, phone, '');
  await hop(p.b.url, sid, phone, '1');
  await hop(p.a.url, sid, phone, '1*1');
  await hop(p.b.url, sid, phone, '1*1*100');
  assert.match(await hop(p.a.url, sid, phone, '1*1*100*1'), /^END You will receive an M-PESA prompt to pay KES 100/);
  const o = await orderOf(p.a, sid, 5000);
  const done = await waitState(p.b, o.id, 'terminal', 15_000);
  assert.equal(done.state, 'fulfilled');
  const l = await ledger(p.a);
  assert.equal(l.filter((e) => e.endpoint === 'checkout' && e.reference === `${o.id}-checkout`).length, 1);
  assert.equal(vendsFor(l, o.id).length, 1);
  const history = await p.a.payments.store.history(o.id);
  assert.ok(
    history.some((h) => h.to === 'paid'),
    'paid on the IPN and the status lookup',
  );
  await waitSms(p.a, phone, 'Success', 10_000);
  assert.deepEqual(await checkInvariants(p.a.payments.store, l), []);
}

/** A code sent through a is checked through b. */
export async function otp(p: Pair): Promise<void> {
  const phone = '0712300004';
  const sent = await api(p.a.url, 'POST', '/api/otp', { phone, purpose: 'login' });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));
  const sms = await waitFor(async () => (await sandboxSms(p.sandbox.url)).find((s) => s.recipients.some((r) => nsn(r) === nsn(phone))), {
    what: 'the OTP SMS',
    timeoutMs: 10_000,
    everyMs: 100,
  });
  const code = /code is (\d+)/.exec(sms.message)?.[1];
  assert.ok(code);
  const wrong = await api(p.b.url, 'POST', '/api/otp/verify', { phone, purpose: 'login', code: code === '000000' ? '111111' : '000000' });
  assert.equal(wrong.json.valid, false);
  const ok = await api(p.b.url, 'POST', '/api/otp/verify', { phone, purpose: 'login', code });
  assert.equal(ok.json.valid, true);
  const again = await api(p.a.url, 'POST', '/api/otp/verify', { phone, purpose: 'login', code });
  assert.equal(again.json.valid, false, 'used once');
}

/** 2,500 lines (2,150 unique valid) posted to b, followed on a: three batches, nobody twice. */
export async function bulk(p: Pair, seed: number): Promise<void> {
  const unique = uniqueNumbers(2150, seed);
  const lines = [...unique, ...unique.slice(0, 300).map((n) => `+254${n.slice(1)}`), ...Array.from({ length: 50 }, (_, i) => `07${i}`)];
  const message = `Scale ${seed} ${randomUUID().slice(0, 6)}`;
  const r = await api(p.b.url, 'POST', '/api/sms/bulk', { message, recipients: lines });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.equal(r.json.received, 2500);
  assert.equal(r.json.valid, 2150);
  assert.equal(r.json.batches, 3);
  const status = await waitFor(
    async () => {
      const s = await api(p.a.url, 'GET', `/api/sms/bulk/${r.json.id}`);
      return s.json.state === 'done' ? s.json : undefined;
    },
    { what: 'bulk done', timeoutMs: 30_000, everyMs: 200 },
  );
  assert.equal(status.totals.recipientsSent, 2150);
  assert.equal(status.totals.batchesFailed, 0);
  const sent = (await sandboxSms(p.sandbox.url)).filter((s) => s.message === message);
  const all = sent.flatMap((s) => s.recipients.map(nsn));
  assert.equal(all.length, 2150, 'nobody twice, nobody left out');
  assert.deepEqual(new Set(all), new Set(unique.map(nsn)));
}

export type { Svc };
