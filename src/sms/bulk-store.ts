// Redis layout of one bulk job (all keys expire after SMS_BULK_TTL_S; names: src/keys.ts, keyNames().bulk):
//   sms:bulk:<id>            hash: message, encoding, parts, state and the counters
//   sms:bulk:<id>:b:<n>      batch n's recipients, comma-joined MSISDNs (written once at intake)
//   sms:bulk:<id>:t:<n>      batch n's own text, when the message has {column} placeholders
//   sms:bulks                sorted set: campaign ids by creation time (the console's list)
//   sms:bulk:<id>:bstat      hash n → JSON { status, size, attempts, gatewayRef?, error?, at }
//   sms:bulk:<id>:final      hash n → "sent:<gatewayRef>" | "failed:<code>": the exactly-once record
//   sms:bulk:<id>:invalid    list of "<raw>\t<reason>"
//   sms:bulk:<id>:dlr        hash msisdn → delivery status (a final one is never replaced)
//   sms:bulk:<id>:dlrn       hash "<n>:delivered" / "<n>:undelivered" → recipients of batch n
//   sms:ref:<gatewayRef>     "<id>|<n>" so delivery reports find their batch
import type { AppContext } from '../app-context.js';
import { loadLua } from '../lib/lua.js';
import { keyNames, type KeyNames } from '../keys.js';

/** waiting: no gateway rate-limit slot yet; it asks again at retryAt (not counted as an attempt). */
export type BatchStatus = 'queued' | 'sending' | 'waiting' | 'retrying' | 'sent' | 'failed';

export interface BatchInfo {
  status: BatchStatus;
  size: number;
  attempts?: number;
  gatewayRef?: string;
  error?: string;
  retryAt?: string;
  at: string;
}

// The scripts (lua/): a batch's final outcome, recorded once with the campaign's counters
// (bulk-finish.lua), and a recipient's delivery report (bulk-dlr.lua).
const FINISH = loadLua(import.meta.url, 'bulk-finish');
const DLR = loadLua(import.meta.url, 'bulk-dlr');

interface StoreRedis {
  smsBulkFinish(...args: (string | number)[]): Promise<number>;
  smsBulkDlr(...args: (string | number)[]): Promise<number>;
}

/** What BulkStore uses of the application context (and nothing else of it). */
type BulkStoreDeps = Pick<AppContext, 'cluster' | 'config' | 'key' | 'redis'>;

export class BulkStore {
  private readonly r: StoreRedis & AppContext['redis'];
  private readonly names: KeyNames['bulk'];
  constructor(private readonly app: BulkStoreDeps) {
    this.r = app.redis as StoreRedis & AppContext['redis'];
    this.names = keyNames(app.key).bulk;
    this.r.defineCommand('smsBulkFinish', { numberOfKeys: FINISH.numberOfKeys, lua: FINISH.source });
    this.r.defineCommand('smsBulkDlr', { numberOfKeys: DLR.numberOfKeys, lua: DLR.source });
  }

  get ttl(): number {
    return this.app.config.SMS_BULK_TTL_S;
  }
  meta(id: string) {
    return this.names.campaign(id);
  }
  batchKey(id: string, n: number) {
    return this.names.batch(id, n);
  }
  batchText(id: string, n: number) {
    return this.names.batchText(id, n);
  }
  indexKey() {
    return this.names.list();
  }

  /** Lists a campaign (newest first in recent()); entries older than SMS_BULK_TTL_S are trimmed. */
  async index(id: string): Promise<void> {
    const now = Date.now();
    await this.r
      .multi()
      .zadd(this.indexKey(), now, id)
      .zremrangebyscore(this.indexKey(), '-inf', now - this.ttl * 1000)
      .exec();
  }

  /** Ids of the most recent campaigns, newest first. */
  async recent(limit: number): Promise<string[]> {
    return this.r.zrevrange(this.indexKey(), 0, limit - 1);
  }
  bstat(id: string) {
    return this.names.statuses(id);
  }
  final(id: string) {
    return this.names.final(id);
  }
  invalid(id: string) {
    return this.names.invalid(id);
  }
  dlr(id: string) {
    return this.names.dlr(id);
  }
  dlrCounts(id: string) {
    return this.names.dlrCounts(id);
  }
  refKey(gatewayRef: string) {
    return this.names.ref(gatewayRef);
  }

  async finalOf(id: string, n: number): Promise<string | null> {
    return this.r.hget(this.final(id), String(n));
  }

  async batchInfo(id: string, n: number): Promise<BatchInfo | null> {
    const raw = await this.r.hget(this.bstat(id), String(n));
    return raw ? (JSON.parse(raw) as BatchInfo) : null;
  }

  async setBatch(id: string, n: number, info: BatchInfo): Promise<void> {
    await this.r.hset(this.bstat(id), String(n), JSON.stringify(info));
  }

  /** Records batch n's final outcome; false when another attempt already did. */
  async finish(id: string, n: number, outcome: 'sent' | 'failed', detail: string, info: BatchInfo): Promise<boolean> {
    let refKey = outcome === 'sent' && detail ? this.refKey(detail) : this.names.ref('-');
    if (this.app.cluster) {
      // Written first: a delivery report that finds it before the batch is final is handled
      // as it is on one node once the batch is (the value names the batch, whoever finishes it).
      if (outcome === 'sent' && detail) await this.r.set(refKey, `${id}|${n}`, 'EX', this.ttl);
      refKey = this.meta(id);
    }
    const res = await this.r.smsBulkFinish(
      this.meta(id),
      this.final(id),
      this.bstat(id),
      refKey,
      String(n),
      outcome,
      detail,
      info.size,
      JSON.stringify(info),
      id,
      this.ttl,
      new Date().toISOString(),
      this.app.cluster ? '0' : '1',
    );
    return res === 1;
  }

  /** 'recorded', 'repeat' (same status again) or 'ignored' (recipient already final, or batch failed). */
  async recordDlr(id: string, n: number, msisdn: string, status: string): Promise<'recorded' | 'repeat' | 'ignored'> {
    const r = await this.r.smsBulkDlr(this.final(id), this.dlr(id), this.dlrCounts(id), String(n), msisdn, status, this.ttl);
    return r === 1 ? 'recorded' : r === 0 ? 'repeat' : 'ignored';
  }
}
