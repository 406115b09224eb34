// Two guards against sending a campaign twice, both checked once the whole list is in and
// before anything is queued:
// - Idempotency-Key: the client's key names one campaign; the same key again answers with that
//   campaign instead of making another (a client retrying a slow upload).
// - duplicate content: the same message to the same recipients (in any order or format, see
//   list-digest.ts) within SMS_DUPLICATE_WINDOW_S is refused unless the request confirms it.
// Redis (prefixed; both expire):
//   sms:idem:<sha256(key)>   "pending:<bulkId>" while that upload is read, then "<bulkId>"
//   sms:dup:<fingerprint>    "<bulkId>" of the last campaign with that content
import { createHash } from 'node:crypto';
import type { AppContext } from '../app-context.js';

/** A crashed upload stops holding its key after this; a live one refreshes it when it commits. */
const PENDING_TTL_S = 900;

// KEYS: idem key. ARGV: bulk id, pending ttl. → {'claimed'} | {'pending', id} | {'done', id}
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], 'pending:' .. ARGV[1], 'EX', ARGV[2]); return {'claimed', ARGV[1]} end
if string.sub(v, 1, 8) == 'pending:' then return {'pending', string.sub(v, 9)} end
return {'done', v}
`;

// The key becomes ours for good if it is still our pending claim (or expired meanwhile);
// otherwise another request got it and its campaign is the answer.
// KEYS: idem key. ARGV: bulk id, ttl. → {'ok'} | {'taken', id}
const COMMIT = `
local v = redis.call('GET', KEYS[1])
if not v or v == 'pending:' .. ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]); return {'ok', ARGV[1]} end
if string.sub(v, 1, 8) == 'pending:' then return {'taken', string.sub(v, 9)} end
return {'taken', v}
`;

// KEYS: key. ARGV: value. Deletes only our own value.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

// KEYS: dup key. ARGV: bulk id, window s, force ('1' = confirmed duplicate). → '' or the earlier id
const DUPLICATE = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] and ARGV[3] ~= '1' then return v end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ''
`;

interface GuardRedis {
  smsIdemClaim(key: string, id: string, ttl: number): Promise<[string, string]>;
  smsIdemCommit(key: string, id: string, ttl: number): Promise<[string, string]>;
  smsGuardRelease(key: string, value: string): Promise<number>;
  smsDuplicate(key: string, id: string, windowS: number, force: string): Promise<string>;
}

/** Idempotency keys: printable ASCII, as Stripe and the IETF draft allow. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export type Claim = { kind: 'claimed' } | { kind: 'pending'; id: string } | { kind: 'done'; id: string };

export class BulkGuard {
  private readonly r: GuardRedis & AppContext['redis'];

  constructor(private readonly app: AppContext) {
    this.r = app.redis as GuardRedis & AppContext['redis'];
    this.r.defineCommand('smsIdemClaim', { numberOfKeys: 1, lua: CLAIM });
    this.r.defineCommand('smsIdemCommit', { numberOfKeys: 1, lua: COMMIT });
    this.r.defineCommand('smsGuardRelease', { numberOfKeys: 1, lua: RELEASE });
    this.r.defineCommand('smsDuplicate', { numberOfKeys: 1, lua: DUPLICATE });
  }

  private idemKey(key: string): string {
    return this.app.key('sms', 'idem', createHash('sha256').update(key).digest('hex'));
  }

  private get idemTtl(): number {
    // The key must not outlive the campaign it points at.
    return Math.min(this.app.config.SMS_IDEMPOTENCY_TTL_S, this.app.config.SMS_BULK_TTL_S);
  }

  /** Takes the key for bulk `id` while its upload is read, or says whose it already is. */
  async claim(key: string, id: string): Promise<Claim> {
    const [kind, other] = await this.r.smsIdemClaim(this.idemKey(key), id, PENDING_TTL_S);
    return kind === 'claimed' ? { kind } : { kind: kind as 'pending' | 'done', id: other };
  }

  /** Makes the claim final; the id of the campaign that has the key when it is not ours. */
  async commit(key: string, id: string): Promise<string | null> {
    const [kind, other] = await this.r.smsIdemCommit(this.idemKey(key), id, this.idemTtl);
    return kind === 'ok' ? null : other;
  }

  /** The upload failed: the key is free again (only if still our pending claim). */
  async release(key: string, id: string): Promise<void> {
    await this.r.smsGuardRelease(this.idemKey(key), `pending:${id}`).catch(() => 0);
  }

  /** Forget a campaign whose key turned out stale (its record expired). */
  async forget(key: string, id: string): Promise<void> {
    await this.r.smsGuardRelease(this.idemKey(key), id).catch(() => 0);
  }

  /**
   * Records `fingerprint` as sent by `id`; returns the earlier campaign with the same content
   * within the window (nothing recorded then), or null. `confirmed` records it regardless.
   */
  async duplicateOf(fingerprint: string, id: string, confirmed: boolean): Promise<string | null> {
    const windowS = this.app.config.SMS_DUPLICATE_WINDOW_S;
    if (windowS <= 0) return null;
    const prev = await this.r.smsDuplicate(this.app.key('sms', 'dup', fingerprint), id, windowS, confirmed ? '1' : '0');
    return prev === '' ? null : prev;
  }

  /** Undo duplicateOf for a campaign that was then not queued after all. */
  async dropFingerprint(fingerprint: string, id: string): Promise<void> {
    await this.r.smsGuardRelease(this.app.key('sms', 'dup', fingerprint), id).catch(() => 0);
  }
}
