// Two instances on a real Redis Cluster (3 masters, 3 replicas on loopback): the scenarios of
// test/scale/scenarios.ts, then kill -9 of the master holding the orders while subscribers dial.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, command, type LocalCluster } from '../../scripts/lib/redis-topologies.mjs';
import { startPair, type Pair } from './support.js';
import { bulk, duplicates, interchangeable, otp, purchase } from './scenarios.js';
import { assertAllAnswered, assertMoneyKept, startTraffic } from './traffic.js';

let cluster: LocalCluster;
let p: Pair;
before(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1 });
  p = await startPair(cluster.url);
});
after(async () => {
  // Nothing of this file may keep its process alive (a client still retrying a killed node): the
  // runner waits for the process to exit, and every result has been reported by now.
  setTimeout(() => process.exit(), 30_000).unref();
  await p?.close();
  await cluster?.stop();
});

test('cluster: keys of one script share a slot; sessions spread over the shards', async () => {
  const key = p.a.svc.app.key;
  assert.match(key('order', 'K1'), /\{orders\}/);
  const slot = async (k: string) => Number(await command(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', k));
  assert.equal(await slot(key('order', 'K1')), await slot(key('orders', 'open')));
  const sessionSlots = new Set<number>();
  for (let i = 0; i < 20; i++) sessionSlots.add(await slot(p.sessKey(`s${i}`, `+2547123000${String(i).padStart(2, '0')}`)));
  assert.ok(sessionSlots.size > 10, 'sessions of different phones land on different slots');
  assert.match(p.a.svc.app.queuePrefix, /^\{.*\}$/, 'BullMQ prefix is one hash tag');
});

test('cluster: two instances serve one session interchangeably', () => interchangeable(p));
test('cluster: 20 concurrent duplicates advance the session once', () => duplicates(p));
test('cluster: a purchase with its IPN across both instances', () => purchase(p));
test('cluster: an OTP sent by one instance is checked by the other', () => otp(p));
test('cluster: a 2,500-number bulk send', () => bulk(p, 3));

test('cluster: kill -9 of a master under traffic: hops answered, no order lost, no money twice', async () => {
  const ordersSlot = Number(await command(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', p.a.svc.app.key('orders', 'all')));
  const slots = (await command(cluster.nodes[0]!.port, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
  const owner = slots.find(([from, to]) => ordersSlot >= from && ordersSlot <= to)![2][1];
  const traffic = startTraffic(() => [p.a.url, p.b.url]);
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  await cluster.killMaster(owner);
  await cluster.waitHealthy();
  const switchMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  await traffic.stop();
  assert.ok(!(await cluster.masterPorts()).includes(owner), 'a replica took over');
  const { politeEnds, hops, politeSpanMs } = assertAllAnswered(traffic);
  console.log(`# polite ENDs from ${politeSpanMs[0] - t0} to ${politeSpanMs[1] - t0} ms after the kill`);
  const orders = await assertMoneyKept(traffic, p.a, p.a.payments.store);
  assert.ok(orders > 0, 'purchases were made during the test');
  console.log(
    `# cluster failover: replica promoted ${switchMs} ms after kill -9; ${hops} hops, ${politeEnds} polite END, ${orders} promised purchases kept their promise (prompt: fulfilled once; SMS: settled and SMSed)`,
  );
});
