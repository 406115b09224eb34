// REDIS_URL's three forms, what a wrong one says, and key names: unchanged on one node (a
// rolling upgrade keeps reading what is in Redis), hash-tagged by family in a Cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl } from '../../src/redis-url.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { keyBuilder, queuePrefix, sessionKeyBuilder } from '../../src/keys.js';

test('REDIS_URL: one node, Sentinel and Cluster forms', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/2'), { kind: 'single', url: 'redis://127.0.0.1:6379/2' });
  assert.deepEqual(parseRedisUrl('redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/mymaster/1'), {
    kind: 'sentinel',
    sentinels: [
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26379 },
    ],
    name: 'mymaster',
    password: 's3cret',
    db: 1,
  });
  assert.deepEqual(parseRedisUrl('redis-cluster://a:7000,b:7001'), {
    kind: 'cluster',
    nodes: [
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ],
  });
});

test('a wrong REDIS_URL stops start-up with one line naming it', () => {
  for (const [url, says] of [
    ['redis-sentinel://h:26379', /master name/],
    ['redis-cluster://h:7000/3', /no path/],
    ['redis://a:1,b:2', /one host only/],
    ['http://h:6379', /redis-sentinel:\/\/host:port/],
    ['redis-cluster://h:99999', /port out of range/],
  ] as const) {
    assert.throws(
      () => loadConfig({ REDIS_URL: url }),
      (e: Error) => e instanceof ConfigError && /^config: REDIS_URL: /.test(e.message) && says.test(e.message),
      url,
    );
  }
  assert.equal(loadConfig({ REDIS_URL: 'redis-cluster://127.0.0.1:7000' }).REDIS_URL, 'redis-cluster://127.0.0.1:7000');
});

test('ROLE and shutdown settings', () => {
  const c = loadConfig({});
  assert.equal(c.ROLE, 'all');
  assert.equal(c.SHUTDOWN_TIMEOUT_S, 25);
  assert.throws(() => loadConfig({ ROLE: 'api' }), /config: ROLE/);
});

test('key names: as before on one node, one hash tag per script family in a Cluster', () => {
  const one = keyBuilder('ussd:', false);
  assert.equal(one('order', 'K1'), 'ussd:order:K1');
  assert.equal(one('sms', 'bulk', 'b1', 'dlr'), 'ussd:sms:bulk:b1:dlr');
  assert.equal(queuePrefix('ussd:', false), 'ussd:bull');
  assert.deepEqual(sessionKeyBuilder('ussd:', false)('at:1', '254712000001'), {
    sess: 'ussd:sess:at:1',
    lock: 'ussd:sesslock:at:1',
    resume: 'ussd:resume:254712000001',
    lang: 'ussd:lang:254712000001',
  });

  const cl = keyBuilder('ussd:', true);
  assert.equal(cl('order', 'K1'), 'ussd:{orders}:order:K1');
  assert.equal(cl('orders', 'open'), 'ussd:{orders}:orders:open');
  assert.equal(cl('otp', 'rate', 'global'), 'ussd:{otp}:otp:rate:global');
  assert.equal(cl('sms', 'bulk', 'b1', 'dlr'), 'ussd:{bulk:b1}:sms:bulk:b1:dlr');
  assert.equal(cl('sms', 'ref', 'R1'), 'ussd:sms:ref:R1', 'a key that stands alone spreads by its name');
  assert.equal(queuePrefix('ussd:', true), '{ussd:bull}');
  const s = sessionKeyBuilder('ussd:', true)('at:1', '254712000001');
  for (const k of Object.values(s)) assert.ok(k.startsWith('ussd:{254712000001}:'), k);
});
