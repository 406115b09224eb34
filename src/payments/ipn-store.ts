// IPNs as received: recorded before we answer 200, deduplicated by (gateway ref, status), and
// kept for inspection, including those whose reference we do not know.
import { createHash } from 'node:crypto';
import type { Redis } from '../redis.js';
import type { TransactionUpdate } from '../gateway/types.js';

export interface IpnRecord {
  id: string;
  gateway: string;
  gatewayRef: string;
  status: string;
  reference?: string;
  receivedAt: string;
  count: number;
  processedAt?: string;
  result?: string;
  body: string;
  /** The parsed TransactionUpdate (without raw) as JSON. */
  update: string;
}

const RECORD = `
local isNew = redis.call('HSETNX', KEYS[1], 'receivedAt', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'count', 1)
if isNew == 1 then
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  redis.call('EXPIRE', KEYS[1], 90 * 86400)
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
end
return {isNew, redis.call('HEXISTS', KEYS[1], 'processedAt')}`;

export class IpnStore {
  constructor(private readonly redis: Redis, private readonly key: (...parts: string[]) => string) {}

  static idOf(gateway: string, u: Pick<TransactionUpdate, 'gatewayRef' | 'status'>): string {
    return `${gateway}-${createHash('sha256').update(`${u.gatewayRef}\n${u.status}`).digest('hex').slice(0, 24)}`;
  }

  /** Durable record; `fresh` false for a duplicate, `processed` true once it has been acted on. */
  async record(gateway: string, u: TransactionUpdate, rawBody: string): Promise<{ id: string; fresh: boolean; processed: boolean }> {
    const id = IpnStore.idOf(gateway, u);
    const now = new Date();
    const [isNew, processed] = (await this.redis.eval(
      RECORD, 2, this.key('ipn', id), this.key('ipns'), now.toISOString(), String(now.getTime()),
      'id', id, 'gateway', gateway, 'gatewayRef', u.gatewayRef, 'status', u.status, 'reference', u.reference ?? '', 'body', rawBody, 'update', JSON.stringify({ ...u, raw: undefined }),
    )) as [number, number];
    return { id, fresh: isNew === 1, processed: processed === 1 };
  }

  async get(id: string): Promise<IpnRecord | undefined> {
    const h = await this.redis.hgetall(this.key('ipn', id));
    if (!h.id) return undefined;
    return { ...h, count: Number(h.count ?? 0) } as unknown as IpnRecord;
  }

  async markProcessed(id: string, result: string): Promise<void> {
    await this.redis.hset(this.key('ipn', id), 'processedAt', new Date().toISOString(), 'result', result);
  }

  async markUnknown(id: string): Promise<void> {
    await this.redis.zadd(this.key('ipns', 'unknown'), Date.now(), id);
  }

  async unknown(limit = 100): Promise<IpnRecord[]> {
    const ids = await this.redis.zrevrange(this.key('ipns', 'unknown'), 0, limit - 1);
    return (await Promise.all(ids.map((i) => this.get(i)))).filter((r): r is IpnRecord => r !== undefined);
  }

  async recent(limit = 100): Promise<IpnRecord[]> {
    const ids = await this.redis.zrevrange(this.key('ipns'), 0, limit - 1);
    return (await Promise.all(ids.map((i) => this.get(i)))).filter((r): r is IpnRecord => r !== undefined);
  }
}
