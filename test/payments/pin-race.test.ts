// PIN lockout under concurrent guesses: a burst of parallel PIN checks must not get more than
// AGENT_MAX_PIN_TRIES comparisons, so the right PIN hidden in a burst is still refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AgentStore } from '../../src/agents/store.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `tpin${randomUUID().slice(0, 8)}:`;
const key = (...p: string[]) => prefix + p.join(':');
after(() => redis.quit());

test('parallel PIN guesses: at most AGENT_MAX_PIN_TRIES are compared, then locked', async () => {
  const agents = new AgentStore(redis, key, { maxTries: 3, lockS: 60 });
  const phone = '0722000222';
  await agents.add(phone);
  await agents.setPin(phone, '2468');
  // Nine wrong guesses and then the right one, all in flight at once.
  const guesses = ['1111', '1112', '1113', '1114', '1115', '1116', '1117', '1118', '1119', '2468'];
  const results = await Promise.all(guesses.map((g) => agents.checkPin(phone, g)));
  assert.equal(results.filter((r) => r.ok).length, 0, 'the right PIN inside a burst beyond the limit is refused');
  assert.ok(results.filter((r) => !r.ok && r.why === 'wrong_pin').length <= 2, JSON.stringify(results));
  assert.ok(results.some((r) => !r.ok && r.why === 'locked'));
  const after1 = await agents.checkPin(phone, '2468');
  assert.equal(after1.ok, false, 'still locked afterwards');
  assert.equal(!after1.ok && after1.why, 'locked');
});

test('sequential behaviour unchanged: a right PIN resets the count', async () => {
  const agents = new AgentStore(redis, key, { maxTries: 3, lockS: 60 });
  const phone = '0722000333';
  await agents.add(phone);
  await agents.setPin(phone, '1357');
  assert.deepEqual(await agents.checkPin(phone, '0000'), { ok: false, why: 'wrong_pin', triesLeft: 2 });
  assert.deepEqual(await agents.checkPin(phone, '0000'), { ok: false, why: 'wrong_pin', triesLeft: 1 });
  assert.equal((await agents.checkPin(phone, '1357')).ok, true);
  assert.deepEqual(await agents.checkPin(phone, '0000'), { ok: false, why: 'wrong_pin', triesLeft: 2 });
  assert.equal(await redis.hget(key('agent', '254722000333'), 'failedTries'), '1');
});
