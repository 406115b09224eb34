// Two instances on a real Sentinel set (a master, a replica, three sentinels on loopback): the
// scenarios of test/scale/scenarios.ts, then SENTINEL FAILOVER while subscribers dial.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSentinel, type LocalSentinel } from '../../scripts/lib/redis-topologies.mjs';
import { startPair, type Pair } from './support.js';
import { bulk, duplicates, interchangeable, otp, purchase } from './scenarios.js';
import { assertAllAnswered, assertMoneyKept, startTraffic } from './traffic.js';

let set: LocalSentinel;
let p: Pair;
before(async () => {
  set = await startSentinel();
  p = await startPair(set.url);
});
after(async () => {
  // Nothing of this file may keep its process alive (a client still retrying a killed node): the
  // runner waits for the process to exit, and every result has been reported by now.
  setTimeout(() => process.exit(), 30_000).unref();
  await p?.close();
  await set?.stop();
});

test('sentinel: the service writes to the master the sentinels name', async () => {
  const info = await p.a.svc.app.redis.info('replication');
  assert.match(info, /role:master/);
  assert.match(info, new RegExp(`slave0:ip=127.0.0.1,port=${set.ports.replica}`));
});

test('sentinel: two instances serve one session interchangeably', () => interchangeable(p));
test('sentinel: 20 concurrent duplicates advance the session once', () => duplicates(p));
test('sentinel: a purchase with its IPN across both instances', () => purchase(p));
test('sentinel: an OTP sent by one instance is checked by the other', () => otp(p));
test('sentinel: a 2,500-number bulk send', () => bulk(p, 4));

test('sentinel: SENTINEL FAILOVER under traffic: hops answered, no order lost, no money twice', async () => {
  const before = await set.currentMaster();
  const traffic = startTraffic(() => [p.a.url, p.b.url]);
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  const after = await set.failover();
  const switchMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2500));
  await traffic.stop();
  assert.notEqual(after, before);
  const info = await p.a.svc.app.redis.info('server');
  assert.match(info, new RegExp(`tcp_port:${after}`), 'the service follows the new master');
  const { politeEnds, hops, politeSpanMs } = assertAllAnswered(traffic);
  console.log(`# polite ENDs from ${politeSpanMs[0] - t0} to ${politeSpanMs[1] - t0} ms after the failover began`);
  const orders = await assertMoneyKept(traffic, p.a, p.a.payments.store);
  assert.ok(orders > 0, 'purchases were made during the test');
  console.log(
    `# sentinel failover: new master named ${switchMs} ms after SENTINEL FAILOVER; ${hops} hops, ${politeEnds} polite END, ${orders} promised purchases kept their promise (prompt: fulfilled once; SMS: settled and SMSed)`,
  );
});
