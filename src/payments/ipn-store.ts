// IPNs as received: recorded before we answer 200, deduplicated by (gateway ref, status), and
// kept for inspection, including those whose reference we do not know.
//
// An IPN is only a reason to ask the gateway. When that lookup settles nothing (the gateway
// still says Pending: the IPN came early, or was forged), the record stays unprocessed and its
// round goes up, so the next copy of the same notification (the real one, later) makes us ask
// again instead of being dropped as a duplicate.
import { createHash } from 'node:crypto';
import type { Redis } from '../redis.js';
import type { TransactionUpdate } from '../gateway/types.js';
import { loadLua } from '../lib/lua.js';
import { keyNames, type KeyFn, type KeyNames } from '../keys.js';

export interface IpnRecord {
  id: string;
  gateway: string;
  gatewayRef: string;
  status: string;
  reference?: string;
  receivedAt: string;
  count: number;
  /** Lookups made for it that settled nothing. */
  round: number;
  /** The webhook event it came as ('' for a plain IPN). */
  event?: string;
  processedAt?: string;
  result?: string;
  body: string;
  /** The parsed TransactionUpdate (without raw) as JSON. */
  update: string;
}

// First copy of an IPN writes the record and indexes it; every copy counts (lua/ipn-record.lua).
const RECORD = loadLua(import.meta.url, 'ipn-record');

interface IpnRedis extends Redis {
  ipnRecord(...args: string[]): Promise<[number, number, number]>;
}

export class IpnStore {
  private readonly redis: IpnRedis;
  private readonly names: KeyNames['ipns'];

  constructor(redis: Redis, key: KeyFn) {
    this.redis = redis as IpnRedis;
    this.names = keyNames(key).ipns;
    // defineCommand uses EVALSHA with an EVAL fallback, so the script is sent once per connection.
    if (typeof this.redis.ipnRecord !== 'function') this.redis.defineCommand('ipnRecord', { numberOfKeys: RECORD.numberOfKeys, lua: RECORD.source });
  }

  /** One record per (reference, status) and per webhook event: an event is not a copy of the IPN. */
  static idOf(gateway: string, u: Pick<TransactionUpdate, 'gatewayRef' | 'status'>, event = ''): string {
    return `${gateway}-${createHash('sha256')
      .update(`${u.gatewayRef}\n${u.status}${event ? `\n${event}` : ''}`)
      .digest('hex')
      .slice(0, 24)}`;
  }

  /**
   * Durable record; `fresh` false for a duplicate, `processed` true once it has been acted on,
   * `round` the lookups that settled nothing so far (one job per round: see above).
   */
  async record(gateway: string, u: TransactionUpdate, rawBody: string, event = ''): Promise<{ id: string; fresh: boolean; processed: boolean; round: number }> {
    const id = IpnStore.idOf(gateway, u, event);
    const now = new Date();
    const [isNew, processed, round] = await this.redis.ipnRecord(
      this.names.ipn(id),
      this.names.all(),
      now.toISOString(),
      String(now.getTime()),
      'id',
      id,
      'gateway',
      gateway,
      'gatewayRef',
      u.gatewayRef,
      'status',
      u.status,
      'reference',
      u.reference ?? '',
      'event',
      event,
      'body',
      rawBody,
      'update',
      JSON.stringify({ ...u, raw: undefined }),
    );
    return { id, fresh: isNew === 1, processed: processed === 1, round };
  }

  async get(id: string): Promise<IpnRecord | undefined> {
    const h = await this.redis.hgetall(this.names.ipn(id));
    if (!h.id) return undefined;
    return { ...h, count: Number(h.count ?? 0), round: Number(h.round ?? 0) } as unknown as IpnRecord;
  }

  async markProcessed(id: string, result: string): Promise<void> {
    await this.redis.hset(this.names.ipn(id), 'processedAt', new Date().toISOString(), 'result', result);
  }

  /** The lookup settled nothing: the next copy of this notification looks again. */
  async inconclusive(id: string, result: string): Promise<void> {
    await this.redis.multi().hincrby(this.names.ipn(id), 'round', 1).hset(this.names.ipn(id), 'result', result).exec();
  }

  async markUnknown(id: string): Promise<void> {
    await this.redis.zadd(this.names.unknown(), Date.now(), id);
  }

  async unknown(limit = 100): Promise<IpnRecord[]> {
    const ids = await this.redis.zrevrange(this.names.unknown(), 0, limit - 1);
    return (await Promise.all(ids.map((i) => this.get(i)))).filter((r): r is IpnRecord => r !== undefined);
  }

  async recent(limit = 100): Promise<IpnRecord[]> {
    const ids = await this.redis.zrevrange(this.names.all(), 0, limit - 1);
    return (await Promise.all(ids.map((i) => this.get(i)))).filter((r): r is IpnRecord => r !== undefined);
  }
}
