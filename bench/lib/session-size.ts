// What one session costs in Redis: every key under the benchmark's prefix whose name contains
// the session id (the session record) or the subscriber's number (per-phone keys such as the
// resume pointer), with its payload bytes and Redis's own MEMORY USAGE (payload + overhead).
import type { Redis } from 'ioredis';

export interface KeySize {
  key: string;
  type: string;
  /** bytes of field names and values (hash) or of the value (string) */
  payload: number;
  /** MEMORY USAGE (SAMPLES 0): what Redis really holds for the key, overhead included */
  memory: number;
  ttl: number;
}

async function scanAll(redis: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [c, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = c;
    keys.push(...batch);
  } while (cursor !== '0');
  return [...new Set(keys)].sort();
}

async function sizeOf(redis: Redis, key: string): Promise<KeySize> {
  const type = await redis.type(key);
  let payload = 0;
  if (type === 'string') payload = Number(await redis.strlen(key));
  else if (type === 'hash') {
    const h = await redis.hgetallBuffer(key);
    for (const [f, v] of Object.entries(h)) payload += Buffer.byteLength(f) + v.length;
  } else if (type === 'list' || type === 'set' || type === 'zset') {
    payload = NaN; // not expected for a session; MEMORY USAGE still tells the truth
  }
  const memory = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  const ttl = await redis.ttl(key);
  return { key, type, payload, memory, ttl };
}

export async function sessionKeys(redis: Redis, prefix: string, needles: string[]): Promise<KeySize[]> {
  const keys = new Set<string>();
  for (const n of needles) for (const k of await scanAll(redis, `${prefix}*${n}*`)) keys.add(k);
  const out: KeySize[] = [];
  for (const k of [...keys].sort()) out.push(await sizeOf(redis, k));
  return out;
}
