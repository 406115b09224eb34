// Redis key names, pinned. A rolling upgrade reads the orders, codes, campaigns and sessions
// already in Redis, so every name below must stay byte-for-byte what it is, on one node and in a
// Cluster (where a family that one script or MULTI touches shares a hash tag: src/keys.ts).
// The expected strings were taken from the code before key names moved into src/keys.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { keyBuilder, type KeyFn } from '../src/keys.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** [what, how the code names it, on one node, in a Cluster] */
const NAMES: Array<[string, (k: KeyFn) => string, string, string]> = [
  ['order', (k) => k('order', 'K1'),
    'ussd:order:K1', 'ussd:{orders}:order:K1'],
  ['hist', (k) => k('order', 'K1', 'h'),
    'ussd:order:K1:h', 'ussd:{orders}:order:K1:h'],
  ['once', (k) => k('order', 'K1', 'once', 'smspaid'),
    'ussd:order:K1:once:smspaid', 'ussd:{orders}:order:K1:once:smspaid'],
  ['open', (k) => k('orders', 'open'),
    'ussd:orders:open', 'ussd:{orders}:orders:open'],
  ['all', (k) => k('orders', 'all'),
    'ussd:orders:all', 'ussd:{orders}:orders:all'],
  ['state', (k) => k('orders', 'state', 'created'),
    'ussd:orders:state:created', 'ussd:{orders}:orders:state:created'],
  ['phone', (k) => k('orders', 'phone', '254712000001'),
    'ussd:orders:phone:254712000001', 'ussd:{orders}:orders:phone:254712000001'],
  ['gwref', (k) => k('gwref', 'pag', 'R1'),
    'ussd:gwref:pag:R1', 'ussd:gwref:pag:R1'],
  ['ipn', (k) => k('ipn', 'pag-abc'),
    'ussd:ipn:pag-abc', 'ussd:{ipns}:ipn:pag-abc'],
  ['ipns', (k) => k('ipns'),
    'ussd:ipns', 'ussd:{ipns}:ipns'],
  ['ipnsu', (k) => k('ipns', 'unknown'),
    'ussd:ipns:unknown', 'ussd:{ipns}:ipns:unknown'],
  ['agent', (k) => k('agent', '254712000001'),
    'ussd:agent:254712000001', 'ussd:agent:254712000001'],
  ['agents', (k) => k('agents'),
    'ussd:agents', 'ussd:agents'],
  ['actres', (k) => k('actres', 'idem-1'),
    'ussd:actres:idem-1', 'ussd:actres:idem-1'],
  ['code', (k) => k('otp', 'code', 'login', '254712000001'),
    'ussd:otp:code:login:254712000001', 'ussd:{otp}:otp:code:login:254712000001'],
  ['cool', (k) => k('otp', 'cooldown', 'login', '254712000001'),
    'ussd:otp:cooldown:login:254712000001', 'ussd:{otp}:otp:cooldown:login:254712000001'],
  ['sends', (k) => k('otp', 'sends', 'login', '254712000001'),
    'ussd:otp:sends:login:254712000001', 'ussd:{otp}:otp:sends:login:254712000001'],
  ['pq', (k) => k('otp', 'quota', 'phone', '254712000001'),
    'ussd:otp:quota:phone:254712000001', 'ussd:{otp}:otp:quota:phone:254712000001'],
  ['icode', (k) => k('otp', 'internal', 'code', 'agent-activate', '254712000001'),
    'ussd:otp:internal:code:agent-activate:254712000001', 'ussd:{otp}:otp:internal:code:agent-activate:254712000001'],
  ['ipq', (k) => k('otp', 'internal', 'quota', 'phone', '254712000001'),
    'ussd:otp:internal:quota:phone:254712000001', 'ussd:{otp}:otp:internal:quota:phone:254712000001'],
  ['iph', (k) => k('otp', 'quota', 'ip', '10.0.0.1'),
    'ussd:otp:quota:ip:10.0.0.1', 'ussd:{otp}:otp:quota:ip:10.0.0.1'],
  ['ipm', (k) => k('otp', 'rate', 'ip', '10.0.0.1'),
    'ussd:otp:rate:ip:10.0.0.1', 'ussd:{otp}:otp:rate:ip:10.0.0.1'],
  ['glob', (k) => k('otp', 'rate', 'global'),
    'ussd:otp:rate:global', 'ussd:{otp}:otp:rate:global'],
  ['meta', (k) => k('sms', 'bulk', 'b1'),
    'ussd:sms:bulk:b1', 'ussd:{bulk:b1}:sms:bulk:b1'],
  ['b', (k) => k('sms', 'bulk', 'b1', 'b', '3'),
    'ussd:sms:bulk:b1:b:3', 'ussd:{bulk:b1}:sms:bulk:b1:b:3'],
  ['t', (k) => k('sms', 'bulk', 'b1', 't', '3'),
    'ussd:sms:bulk:b1:t:3', 'ussd:{bulk:b1}:sms:bulk:b1:t:3'],
  ['bulks', (k) => k('sms', 'bulks'),
    'ussd:sms:bulks', 'ussd:sms:bulks'],
  ['bstat', (k) => k('sms', 'bulk', 'b1', 'bstat'),
    'ussd:sms:bulk:b1:bstat', 'ussd:{bulk:b1}:sms:bulk:b1:bstat'],
  ['final', (k) => k('sms', 'bulk', 'b1', 'final'),
    'ussd:sms:bulk:b1:final', 'ussd:{bulk:b1}:sms:bulk:b1:final'],
  ['inv', (k) => k('sms', 'bulk', 'b1', 'invalid'),
    'ussd:sms:bulk:b1:invalid', 'ussd:{bulk:b1}:sms:bulk:b1:invalid'],
  ['dlr', (k) => k('sms', 'bulk', 'b1', 'dlr'),
    'ussd:sms:bulk:b1:dlr', 'ussd:{bulk:b1}:sms:bulk:b1:dlr'],
  ['dlrn', (k) => k('sms', 'bulk', 'b1', 'dlrn'),
    'ussd:sms:bulk:b1:dlrn', 'ussd:{bulk:b1}:sms:bulk:b1:dlrn'],
  ['ref', (k) => k('sms', 'ref', 'R1'),
    'ussd:sms:ref:R1', 'ussd:sms:ref:R1'],
  ['ref-', (k) => k('sms', 'ref', '-'),
    'ussd:sms:ref:-', 'ussd:sms:ref:-'],
  ['idem', (k) => k('sms', 'idem', sha256('client-key-1')),
    'ussd:sms:idem:64dbdc38ede19b85cac8beccc15d52debb1a30e42c2fa15716ce95ac0913ad09', 'ussd:sms:idem:64dbdc38ede19b85cac8beccc15d52debb1a30e42c2fa15716ce95ac0913ad09'],
  ['dup', (k) => k('sms', 'dup', 'fp1'),
    'ussd:sms:dup:fp1', 'ussd:sms:dup:fp1'],
  ['rlpag', (k) => k('ratelimit', 'pag', 'M1'),
    'ussd:ratelimit:pag:M1', 'ussd:{ratelimit}:ratelimit:pag:M1'],
  ['rlky', (k) => k('ratelimit', 'kyanda', sha256('api-key-1').slice(0, 16)),
    'ussd:ratelimit:kyanda:5e7bd0afcf2a7316', 'ussd:{ratelimit}:ratelimit:kyanda:5e7bd0afcf2a7316'],
  ['cb', (k) => k('callback-url', 'pag'),
    'ussd:callback-url:pag', 'ussd:callback-url:pag'],
  ['cbc', (k) => k('callback-url', 'pag', 'claim'),
    'ussd:callback-url:pag:claim', 'ussd:callback-url:pag:claim'],
  ['gw', (k) => k('payments', 'gateway-wait'),
    'ussd:payments:gateway-wait', 'ussd:payments:gateway-wait'],
  ['csess', (k) => k('console', 'sess', sha256('session-1')),
    'ussd:console:sess:84097828fc31a8c8d29210df48901a85de7fd013f686b17be77d1be29cb7a98b', 'ussd:console:sess:84097828fc31a8c8d29210df48901a85de7fd013f686b17be77d1be29cb7a98b'],
  ['cfail', (k) => k('console', 'fail', '10.0.0.1'),
    'ussd:console:fail:10.0.0.1', 'ussd:console:fail:10.0.0.1'],
  ['funnel', (k) => k('funnel', '*384#', '2024-05-01'),
    'ussd:funnel:*384#:2024-05-01', 'ussd:{funnel}:funnel:*384#:2024-05-01'],
];

for (const cluster of [false, true]) {
  test(`key names are unchanged ${cluster ? 'in a Cluster' : 'on one node (and under Sentinel)'}`, () => {
    const k = keyBuilder('ussd:', cluster);
    for (const [what, name, one, cl] of NAMES) assert.equal(name(k), cluster ? cl : one, what);
  });
}
