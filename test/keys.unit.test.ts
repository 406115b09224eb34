// Redis key names, pinned. A rolling upgrade reads the orders, codes, campaigns and sessions
// already in Redis, so every name below must stay byte-for-byte what it is, on one node and in a
// Cluster (where a family that one script or MULTI touches shares a hash tag: src/keys.ts).
// The expected strings were taken from the code before key names moved into src/keys.ts
// (hashed parts: SHA-256 of the idempotency key, the Kyanda API key, the console session id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyBuilder, keyNames, rateLimitKeys, type KeyFn } from '../src/keys.js';
import { PRIORITIES } from '../src/gateway/http/rate-limiter.js';

/** [what, its name from keyNames (src/keys.ts), on one node, in a Cluster] */
const NAMES: Array<[string, (k: KeyFn) => string, string, string]> = [
  ['order', (k) => keyNames(k).orders.order('K1'), 'ussd:order:K1', 'ussd:{orders}:order:K1'],
  ['hist', (k) => keyNames(k).orders.history('K1'), 'ussd:order:K1:h', 'ussd:{orders}:order:K1:h'],
  ['once', (k) => keyNames(k).orders.once('K1', 'smspaid'), 'ussd:order:K1:once:smspaid', 'ussd:{orders}:order:K1:once:smspaid'],
  ['open', (k) => keyNames(k).orders.open(), 'ussd:orders:open', 'ussd:{orders}:orders:open'],
  ['all', (k) => keyNames(k).orders.all(), 'ussd:orders:all', 'ussd:{orders}:orders:all'],
  ['state', (k) => keyNames(k).orders.byState('created'), 'ussd:orders:state:created', 'ussd:{orders}:orders:state:created'],
  ['phone', (k) => keyNames(k).orders.byPhone('254712000001'), 'ussd:orders:phone:254712000001', 'ussd:{orders}:orders:phone:254712000001'],
  ['gwref', (k) => keyNames(k).orders.gatewayRef('pag', 'R1'), 'ussd:gwref:pag:R1', 'ussd:gwref:pag:R1'],
  ['ipn', (k) => keyNames(k).ipns.ipn('pag-abc'), 'ussd:ipn:pag-abc', 'ussd:{ipns}:ipn:pag-abc'],
  ['ipns', (k) => keyNames(k).ipns.all(), 'ussd:ipns', 'ussd:{ipns}:ipns'],
  ['ipnsu', (k) => keyNames(k).ipns.unknown(), 'ussd:ipns:unknown', 'ussd:{ipns}:ipns:unknown'],
  ['agent', (k) => keyNames(k).agents.agent('+254712000001'), 'ussd:agent:254712000001', 'ussd:agent:254712000001'],
  ['agents', (k) => keyNames(k).agents.all(), 'ussd:agents', 'ussd:agents'],
  ['actres', (k) => keyNames(k).agents.actionResult('idem-1'), 'ussd:actres:idem-1', 'ussd:actres:idem-1'],
  ['code', (k) => keyNames(k).otp.code('login', '254712000001', false), 'ussd:otp:code:login:254712000001', 'ussd:{otp}:otp:code:login:254712000001'],
  [
    'cool',
    (k) => keyNames(k).otp.cooldown('login', '254712000001', false),
    'ussd:otp:cooldown:login:254712000001',
    'ussd:{otp}:otp:cooldown:login:254712000001',
  ],
  ['sends', (k) => keyNames(k).otp.sends('login', '254712000001', false), 'ussd:otp:sends:login:254712000001', 'ussd:{otp}:otp:sends:login:254712000001'],
  ['pq', (k) => keyNames(k).otp.phoneQuota('254712000001', false), 'ussd:otp:quota:phone:254712000001', 'ussd:{otp}:otp:quota:phone:254712000001'],
  [
    'icode',
    (k) => keyNames(k).otp.code('agent-activate', '254712000001', true),
    'ussd:otp:internal:code:agent-activate:254712000001',
    'ussd:{otp}:otp:internal:code:agent-activate:254712000001',
  ],
  [
    'ipq',
    (k) => keyNames(k).otp.phoneQuota('254712000001', true),
    'ussd:otp:internal:quota:phone:254712000001',
    'ussd:{otp}:otp:internal:quota:phone:254712000001',
  ],
  ['iph', (k) => keyNames(k).otp.ipQuota('10.0.0.1'), 'ussd:otp:quota:ip:10.0.0.1', 'ussd:{otp}:otp:quota:ip:10.0.0.1'],
  ['ipm', (k) => keyNames(k).otp.ipRate('10.0.0.1'), 'ussd:otp:rate:ip:10.0.0.1', 'ussd:{otp}:otp:rate:ip:10.0.0.1'],
  ['glob', (k) => keyNames(k).otp.globalRate(), 'ussd:otp:rate:global', 'ussd:{otp}:otp:rate:global'],
  ['meta', (k) => keyNames(k).bulk.campaign('b1'), 'ussd:sms:bulk:b1', 'ussd:{bulk:b1}:sms:bulk:b1'],
  ['b', (k) => keyNames(k).bulk.batch('b1', 3), 'ussd:sms:bulk:b1:b:3', 'ussd:{bulk:b1}:sms:bulk:b1:b:3'],
  ['t', (k) => keyNames(k).bulk.batchText('b1', 3), 'ussd:sms:bulk:b1:t:3', 'ussd:{bulk:b1}:sms:bulk:b1:t:3'],
  ['bulks', (k) => keyNames(k).bulk.list(), 'ussd:sms:bulks', 'ussd:sms:bulks'],
  ['bstat', (k) => keyNames(k).bulk.statuses('b1'), 'ussd:sms:bulk:b1:bstat', 'ussd:{bulk:b1}:sms:bulk:b1:bstat'],
  ['final', (k) => keyNames(k).bulk.final('b1'), 'ussd:sms:bulk:b1:final', 'ussd:{bulk:b1}:sms:bulk:b1:final'],
  ['inv', (k) => keyNames(k).bulk.invalid('b1'), 'ussd:sms:bulk:b1:invalid', 'ussd:{bulk:b1}:sms:bulk:b1:invalid'],
  ['dlr', (k) => keyNames(k).bulk.dlr('b1'), 'ussd:sms:bulk:b1:dlr', 'ussd:{bulk:b1}:sms:bulk:b1:dlr'],
  ['dlrn', (k) => keyNames(k).bulk.dlrCounts('b1'), 'ussd:sms:bulk:b1:dlrn', 'ussd:{bulk:b1}:sms:bulk:b1:dlrn'],
  ['ref', (k) => keyNames(k).bulk.ref('R1'), 'ussd:sms:ref:R1', 'ussd:sms:ref:R1'],
  ['ref-', (k) => keyNames(k).bulk.ref('-'), 'ussd:sms:ref:-', 'ussd:sms:ref:-'],
  [
    'idem',
    (k) => keyNames(k).bulk.idempotency('client-key-1'),
    'ussd:sms:idem:64dbdc38ede19b85cac8beccc15d52debb1a30e42c2fa15716ce95ac0913ad09',
    'ussd:sms:idem:64dbdc38ede19b85cac8beccc15d52debb1a30e42c2fa15716ce95ac0913ad09',
  ],
  ['dup', (k) => keyNames(k).bulk.duplicate('fp1'), 'ussd:sms:dup:fp1', 'ussd:sms:dup:fp1'],
  ['rlpag', (k) => keyNames(k).ratelimit.pag('M1'), 'ussd:ratelimit:pag:M1', 'ussd:{ratelimit}:ratelimit:pag:M1'],
  ['rlky', (k) => keyNames(k).ratelimit.kyanda('api-key-1'), 'ussd:ratelimit:kyanda:5e7bd0afcf2a7316', 'ussd:{ratelimit}:ratelimit:kyanda:5e7bd0afcf2a7316'],
  [
    'rlday',
    (k) => rateLimitKeys(keyNames(k).ratelimit.kyanda('api-key-1'), PRIORITIES).day,
    'ussd:ratelimit:kyanda:5e7bd0afcf2a7316:day',
    'ussd:{ratelimit}:ratelimit:kyanda:5e7bd0afcf2a7316:day',
  ],
  [
    'rlwait',
    (k) => rateLimitKeys(keyNames(k).ratelimit.pag('M1'), PRIORITIES).wait.bulk,
    'ussd:ratelimit:pag:M1:wait:bulk',
    'ussd:{ratelimit}:ratelimit:pag:M1:wait:bulk',
  ],
  ['cb', (k) => keyNames(k).callbackUrl.registered('pag'), 'ussd:callback-url:pag', 'ussd:callback-url:pag'],
  ['cbc', (k) => keyNames(k).callbackUrl.claim('pag'), 'ussd:callback-url:pag:claim', 'ussd:callback-url:pag:claim'],
  ['gw', (k) => keyNames(k).gatewayWait(), 'ussd:payments:gateway-wait', 'ussd:payments:gateway-wait'],
  [
    'csess',
    (k) => keyNames(k).console.session('session-1'),
    'ussd:console:sess:84097828fc31a8c8d29210df48901a85de7fd013f686b17be77d1be29cb7a98b',
    'ussd:console:sess:84097828fc31a8c8d29210df48901a85de7fd013f686b17be77d1be29cb7a98b',
  ],
  ['cfail', (k) => keyNames(k).console.failures('10.0.0.1'), 'ussd:console:fail:10.0.0.1', 'ussd:console:fail:10.0.0.1'],
  ['funnel', (k) => keyNames(k).funnel.day('*384#', '2024-05-01'), 'ussd:funnel:*384#:2024-05-01', 'ussd:{funnel}:funnel:*384#:2024-05-01'],
];

for (const cluster of [false, true]) {
  test(`key names are unchanged ${cluster ? 'in a Cluster' : 'on one node (and under Sentinel)'}`, () => {
    const k = keyBuilder('ussd:', cluster);
    for (const [what, name, one, cl] of NAMES) assert.equal(name(k), cluster ? cl : one, what);
  });
}
