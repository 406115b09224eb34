// Steps waiting for a slot in the shared gateway allowance, in one sorted set (score: when the
// step began waiting) so every instance sees the same backlog: a gauge and the age of the
// oldest waiter in /metrics, a wait histogram when a step gets its slot, and `waitingForGateway`
// on GET /api/orders/:id (docs/architecture.md, "The life of a purchase").
import type { AppContext } from '../app-context.js';
import { keyNames } from '../keys.js';

/** What GatewayWait uses of the application context (and nothing else of it). */
type GatewayWaitDeps = Pick<AppContext, 'key' | 'metrics' | 'redis'>;

export class GatewayWait {
  private readonly key: string;

  constructor(private readonly app: GatewayWaitDeps) {
    this.key = keyNames(app.key).gatewayWait();
  }

  /** The job began (or goes on) waiting; the first time counts. */
  async start(jobId: string): Promise<void> {
    await this.app.redis.zadd(this.key, 'NX', Date.now(), jobId);
  }

  /** The job is past its wait (it got a slot, or ended): observed once. */
  async done(jobId: string): Promise<void> {
    const since = await this.app.redis.zscore(this.key, jobId);
    if (since === null) return;
    if ((await this.app.redis.zrem(this.key, jobId)) === 1) {
      this.app.metrics.observe(
        'payments_gateway_wait_seconds',
        Date.now() - Number(since),
        {},
        'How long payment steps and their SMS waited for a gateway rate-limit slot',
      );
    }
  }

  /** Steps of one order waiting now: `{ step, since, waitedMs }`. */
  async ofOrder(orderId: string): Promise<Array<{ step: string; since: string; waitedMs: number }>> {
    // ZSCAN with a pattern: the set is ordered by time, not by id (and an id holds no glob characters).
    const out: Array<{ step: string; since: string; waitedMs: number }> = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.app.redis.zscan(this.key, cursor, 'MATCH', `${orderId}-*`, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const since = Number(flat[i + 1]);
        out.push({ step: flat[i]!.slice(orderId.length + 1), since: new Date(since).toISOString(), waitedMs: Date.now() - since });
      }
    } while (cursor !== '0');
    return out;
  }

  /** For /metrics: how many wait, and for how long the oldest has. */
  async collect(): Promise<void> {
    const m = this.app.metrics;
    const n = await this.app.redis.zcard(this.key);
    const oldest = n > 0 ? await this.app.redis.zrange(this.key, '0', '0', 'WITHSCORES') : [];
    m.set('payments_waiting_for_gateway', {}, n, 'Payment steps and order SMS waiting for a gateway rate-limit slot');
    m.set(
      'payments_gateway_wait_oldest_seconds',
      {},
      oldest[1] ? Math.round((Date.now() - Number(oldest[1])) / 1000) : 0,
      'How long the longest-waiting payment step has waited for a gateway slot',
    );
  }
}
