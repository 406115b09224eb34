// The benchmark's parts, small and fast: the load generator against the floor (real Redis),
// the session-size probe, percentiles, and the dial helpers that need no process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startFloor } from '../../bench/lib/floor.js';
import { percentile, runLoad } from '../../bench/lib/load.js';
import { sessionKeys } from '../../bench/lib/session-size.js';
import { aggregatorPhone, splitDialled } from '../../scripts/lib/ussd-client.js';
import { wrapLine } from '../../scripts/lib/handset.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomUUID().slice(0, 8)}:`;
const redis = new Redis(REDIS_URL);
after(() => redis.quit());

test('the load generator walks whole sessions against the floor and measures only after the warm-up', async () => {
  const floor = await startFloor(REDIS_URL, prefix);
  after(() => floor.close());
  const seen: string[] = [];
  const r = await runLoad({
    url: floor.url,
    path: '/ussd',
    concurrency: 4,
    warmupS: 0.2,
    durationS: 0.5,
    session: (n) =>
      ['', '1', '1*2'].map((text) => {
        seen.push(`${n}:${text}`);
        return { body: new URLSearchParams({ sessionId: `s${n}`, phoneNumber: '+254712000000', text }).toString(), expect: 'CON ' };
      }),
  });
  assert.ok(r.requests > 10, `only ${r.requests} requests`);
  assert.equal(r.errors, 0, r.errorSamples.join('\n'));
  assert.equal(r.latencies.length, r.requests);
  for (let i = 1; i < r.latencies.length; i++) assert.ok(r.latencies[i]! >= r.latencies[i - 1]!);
  // Timers may fire a fraction of a millisecond before performance.now() says 0.5 s.
  assert.ok(r.seconds >= 0.49 && r.seconds < 2, `measured ${r.seconds} s`);
  // The floor keeps each session's last text: the sessions really reached Redis.
  assert.equal(await redis.get(`${prefix}sess:s0`), '1*2');
});

test('a reply that is not the expected screen counts as an error and abandons the session', async () => {
  const floor = await startFloor(REDIS_URL, prefix);
  after(() => floor.close());
  const r = await runLoad({
    url: floor.url,
    path: '/ussd',
    concurrency: 2,
    warmupS: 0,
    durationS: 0.3,
    session: (n) => [
      { body: `sessionId=e${n}&text=`, expect: 'END ' },
      { body: `sessionId=e${n}&text=1`, expect: 'CON ' },
    ],
  });
  assert.ok(r.errors > 0);
  assert.equal(r.errors, r.requests); // the second request is never sent
  assert.equal(r.sessions, 0);
  assert.match(r.errorSamples[0]!, /wanted "END "/);
});

test('session size: finds the keys by session id and phone, with payload and MEMORY USAGE', async () => {
  const id = `bench-${randomUUID()}`;
  await redis.hset(`${prefix}sess:${id}`, { t: '1*2', r: 'CON Hello' });
  await redis.set(`${prefix}resume:254712999998`, id, 'EX', 60);
  await redis.set(`${prefix}other:key`, 'x');
  const keys = await sessionKeys(redis, prefix, [id, '254712999998']);
  assert.deepEqual(
    keys.map((k) => k.key),
    [`${prefix}resume:254712999998`, `${prefix}sess:${id}`],
  );
  const [resume, sess] = keys;
  assert.equal(sess!.type, 'hash');
  assert.equal(sess!.payload, 't'.length + '1*2'.length + 'r'.length + 'CON Hello'.length);
  assert.equal(resume!.payload, id.length);
  assert.ok(sess!.memory > sess!.payload);
  assert.ok(resume!.ttl > 0 && resume!.ttl <= 60);
});

test('percentile is nearest-rank', () => {
  const a = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(a, 0.5), 50);
  assert.equal(percentile(a, 0.99), 99);
  assert.equal(percentile(a, 1), 100);
  assert.ok(Number.isNaN(percentile(new Float64Array(0), 0.5)));
});

test("dial helpers: dial-in split, phone as Africa's Talking sends it, word wrap", () => {
  assert.deepEqual(splitDialled('*860*30#', '*860*30#'), { serviceCode: '*860*30#', answers: [] });
  assert.deepEqual(splitDialled('*860*30*1*2#', '*860*30#'), { serviceCode: '*860*30#', answers: ['1', '2'] });
  assert.deepEqual(splitDialled('*144#', '*860*30#'), { serviceCode: '*144#', answers: [] });
  assert.equal(aggregatorPhone('0712345678'), '+254712345678');
  assert.equal(aggregatorPhone('0110000000'), '+254110000000');
  assert.equal(aggregatorPhone('254712345678'), '+254712345678');
  assert.equal(aggregatorPhone('abc'), 'abc'); // sent as typed, to test the service's 400
  assert.deepEqual(wrapLine('Buy airtime KES 100 for 0712345678?', 20), ['Buy airtime KES 100', 'for 0712345678?']);
  assert.deepEqual(wrapLine('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
});
