// `npm run bench:memory [-- --redis cluster] [--sessions 2000]`: what live sessions cost in Redis,
// by INFO memory: used_memory before and after `sessions` subscribers (each its own phone) have
// each walked 4 hops and left their session open, divided by their number. Per phone: what
// stays for a phone between sessions is its language choice (LANGUAGE_TTL_S, a year by
// default), one string key named as the engine names it: measured the same way.
import { parseArgs } from 'node:util';
import { startTarget } from './lib/children.js';
import { startRedisSide, type RedisKind } from './lib/redis-side.js';
import { sessionKeyBuilder } from '../src/keys.js';
import { createRedis } from '../src/redis.js';

const { values: v } = parseArgs({ options: { redis: { type: 'string', default: 'single' }, sessions: { type: 'string', default: '2000' } } });
const kind = v.redis as RedisKind;
const n = Number(v.sessions);
const side = await startRedisSide(kind);
const used = async () => {
  let s = 0;
  for (const m of side.masters) s += Number(/used_memory:(\d+)/.exec(await m.info('memory'))![1]);
  return s;
};
const target = await startTarget('service', side.url, 'mem:', 'silent');
// Written through the service's own client kind, so a Cluster puts each key on its node.
const writer = createRedis(side.url, { enableOfflineQueue: true });
const cmd = (key: string) => writer.set(key, 'sw', 'EX', 31536000);
try {
  const form = (sid: string, phone: string, text: string) =>
    new URLSearchParams({ sessionId: sid, serviceCode: '*860*30#', phoneNumber: phone, networkCode: '63902', text }).toString();
  const post = (body: string) =>
    fetch(`${target.url}/ussd`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }).then((r) => r.text());
  await post(form('warm', '+254713999999', '')); // scripts loaded, menus compiled
  await new Promise((r) => setTimeout(r, 1500));
  const before = await used();
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
        const k = i + j;
        const phone = `+254713${String(k).padStart(6, '0')}`;
        const other = `0733${String(k).padStart(6, '0')}`;
        for (const text of ['', '1', '1*2', `1*2*${other}`]) await post(form(`mem-${k}`, phone, text));
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 1500)); // replicas' output buffers drained
  const after = await used();
  const langKey = sessionKeyBuilder('mem:', kind === 'cluster');
  const before2 = await used();
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, j) => {
        const k = langKey('x', `254714${String(i + j).padStart(6, '0')}`).lang;
        return cmd(k);
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 1500));
  const after2 = await used();
  console.log(`${kind}: ${Math.round((after2 - before2) / n)} B per phone that chose a language (its one long-lived key)`);
  console.log(
    `${kind}: ${n} live sessions (4 hops each, open): ${Math.round((after - before) / n)} B per session by INFO used_memory (record, resume pointer and allocator overhead)`,
  );
} finally {
  await target.stop();
  writer.disconnect();
  await side.stop();
}
