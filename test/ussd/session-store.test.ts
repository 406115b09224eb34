// The session scripts on their own, against the real Redis: lock ownership and write ids.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { SessionStore, type SessionKeys, type SessionWrite } from '../../src/ussd/session-store.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
after(() => redis.quit());
const store = new SessionStore(redis, { sessionS: 60, resumeS: 60, langS: 60 });
const PHONE = '+254712345678';

function keys(): SessionKeys {
  const id = `store-${randomUUID()}`;
  return { sess: `${id}:sess`, lock: `${id}:lock`, resume: `${id}:resume`, lang: `${id}:lang` };
}

function args(token: string, mark: string, unlock = true): SessionWrite {
  return {
    token,
    mark,
    reply: { continues: true, text: `screen for ${mark}` },
    state: { v: `s${mark}`, c: { v: {}, h: [], pg: 0, e: '', lang: 'en', ph: PHONE } },
    n: 1,
    machineVersion: 'v1',
    resumeOffer: undefined,
    resume: 'keep',
    lang: undefined,
    phone: PHONE,
    unlock,
  };
}

test('load run twice with the same token (a re-sent command) finds its own lock, not "busy"', async () => {
  const k = keys();
  assert.equal((await store.load(k, '', 'tok-1', 5000, PHONE)).kind, 'new');
  assert.equal((await store.load(k, '', 'tok-1', 5000, PHONE)).kind, 'new');
  assert.equal((await store.load(k, '', 'tok-2', 5000, PHONE)).kind, 'busy');
});

test('try stores only over the exact write it expects; a recreated record never matches an old id', async () => {
  const k = keys();
  await store.load(k, '', 'a', 5000, PHONE);
  const w1 = await store.save(k, args('a', ''));
  assert.ok(w1);
  const t2 = await store.try(k, { w: w1, mark: '' }, 5000, args('b', '1'));
  assert.equal(t2.kind, 'written');
  // A stale id (w1 was replaced) gets the record, with the lock taken for the caller.
  const stale = await store.try(k, { w: w1, mark: '1' }, 5000, args('c', '1*2'));
  assert.equal(stale.kind, 'session');
  assert.equal(await redis.get(k.lock), 'c');
  const w3 = await store.save(k, args('c', '1*2'));
  assert.notEqual(w3, w1);
  // The record expires and is written again from scratch: the old id means nothing.
  await redis.del(k.sess);
  await store.load(k, '', 'd', 5000, PHONE);
  await store.save(k, args('d', ''));
  assert.equal((await store.try(k, { w: w1, mark: '' }, 5000, args('e', '1'))).kind, 'session');
  // A save whose lock is gone stores nothing and says so.
  await redis.set(k.lock, 'someone-else');
  assert.equal(await store.save(k, args('e', '1')), '');
  assert.equal(await redis.hget(k.sess, 't'), '');
});
