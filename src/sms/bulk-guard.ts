// Two guards against sending a campaign twice, both checked once the whole list is in and
// before anything is queued:
// - Idempotency-Key: the client's key names one campaign; the same key again answers with that
//   campaign instead of making another (a client retrying a slow upload).
// - duplicate content: the same message to the same recipients (in any order or format, see
//   list-digest.ts) within SMS_DUPLICATE_WINDOW_S is refused unless the request confirms it.
// Redis (prefixed; both expire):
//   sms:idem:<sha256(key)>   "pending:<bulkId>" while that upload is read, then "<bulkId>"
//   sms:dup:<fingerprint>    "<bulkId>" of the last campaign with that content
import type { AppContext } from '../app-context.js';
import { loadLua } from '../lib/lua.js';
import { undoWhenRedisAnswers } from '../lib/undo-when-redis-answers.js';
import { keyNames, type KeyNames } from '../keys.js';

/**
 * A pending claim is a lease: the upload that holds it renews it every third of this while it is
 * read (hold), so a crashed instance, or a claim whose answer Redis never gave, stops holding
 * the key within this many seconds; the client's retry then makes the campaign.
 */
const LEASE_S = 30;

// The scripts (lua/): take a key while its upload is read, make it final, give back our own
// claim or fingerprint, record a fingerprint unless it names an earlier campaign.
const CLAIM = loadLua(import.meta.url, 'idem-claim');
const COMMIT = loadLua(import.meta.url, 'idem-commit');
const RENEW = loadLua(import.meta.url, 'idem-renew');
const RELEASE = loadLua(import.meta.url, 'guard-release');
const DUPLICATE = loadLua(import.meta.url, 'duplicate');

interface GuardRedis {
  smsIdemClaim(key: string, id: string, ttl: number): Promise<[string, string]>;
  smsIdemCommit(key: string, id: string, ttl: number): Promise<[string, string]>;
  smsIdemRenew(key: string, value: string, leaseS: number): Promise<number>;
  smsGuardRelease(key: string, value: string): Promise<number>;
  smsDuplicate(key: string, id: string, windowS: number, force: string): Promise<string>;
}

/** Idempotency keys: printable ASCII, as Stripe and the IETF draft allow. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export type Claim = { kind: 'claimed' } | { kind: 'pending'; id: string } | { kind: 'done'; id: string };

/** What BulkGuard uses of the application context (and nothing else of it). */
type BulkGuardDeps = Pick<AppContext, 'config' | 'key' | 'redis'>;

export class BulkGuard {
  private readonly r: GuardRedis & AppContext['redis'];
  private readonly names: KeyNames['bulk'];

  private readonly leaseS: number;

  /** `leaseS`: how long a pending claim lasts unrenewed (tests shorten it). */
  constructor(
    private readonly app: BulkGuardDeps,
    opts: { leaseS?: number } = {},
  ) {
    this.leaseS = opts.leaseS ?? LEASE_S;
    this.r = app.redis as GuardRedis & AppContext['redis'];
    this.names = keyNames(app.key).bulk;
    this.r.defineCommand('smsIdemClaim', { numberOfKeys: CLAIM.numberOfKeys, lua: CLAIM.source });
    this.r.defineCommand('smsIdemCommit', { numberOfKeys: COMMIT.numberOfKeys, lua: COMMIT.source });
    this.r.defineCommand('smsIdemRenew', { numberOfKeys: RENEW.numberOfKeys, lua: RENEW.source });
    this.r.defineCommand('smsGuardRelease', { numberOfKeys: RELEASE.numberOfKeys, lua: RELEASE.source });
    this.r.defineCommand('smsDuplicate', { numberOfKeys: DUPLICATE.numberOfKeys, lua: DUPLICATE.source });
  }

  private idemKey(key: string): string {
    return this.names.idempotency(key);
  }

  private get idemTtl(): number {
    // The key must not outlive the campaign it points at.
    return Math.min(this.app.config.SMS_IDEMPOTENCY_TTL_S, this.app.config.SMS_BULK_TTL_S);
  }

  /** Takes the key for bulk `id` while its upload is read, or says whose it already is. */
  async claim(key: string, id: string): Promise<Claim> {
    let answer: [string, string];
    try {
      answer = await this.r.smsIdemClaim(this.idemKey(key), id, this.leaseS);
    } catch (err) {
      // No answer (Redis stalled, the command timed out) is not "not claimed": the script may
      // still run once Redis wakes, and the client's retry would then be told "in progress"
      // by a request that is gone. Give the claim back as soon as Redis answers again.
      this.giveBackLater(key, id);
      throw err;
    }
    const [kind, other] = answer;
    return kind === 'claimed' ? { kind } : { kind: kind as 'pending' | 'done', id: other };
  }

  /** Keeps our pending claim alive while its upload is read; call the returned function when done. */
  hold(key: string, id: string): () => void {
    const timer = setInterval(() => void this.r.smsIdemRenew(this.idemKey(key), `pending:${id}`, this.leaseS).catch(() => 0), (this.leaseS * 1000) / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Makes the claim final; the id of the campaign that has the key when it is not ours. */
  async commit(key: string, id: string): Promise<string | null> {
    const [kind, other] = await this.r.smsIdemCommit(this.idemKey(key), id, this.idemTtl);
    return kind === 'ok' ? null : other;
  }

  /** The upload failed: the key is free again (only if still our pending claim). */
  async release(key: string, id: string): Promise<void> {
    await this.r.smsGuardRelease(this.idemKey(key), `pending:${id}`).catch(() => this.giveBackLater(key, id));
  }

  /** Gives our pending claim back once Redis answers (within the lease; after it, it is gone anyway). */
  private giveBackLater(key: string, id: string): void {
    undoWhenRedisAnswers(() => this.r.smsGuardRelease(this.idemKey(key), `pending:${id}`), this.leaseS * 1000);
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
    const prev = await this.r.smsDuplicate(this.names.duplicate(fingerprint), id, windowS, confirmed ? '1' : '0');
    return prev === '' ? null : prev;
  }

  /** Undo duplicateOf for a campaign that was then not queued after all. */
  async dropFingerprint(fingerprint: string, id: string): Promise<void> {
    await this.r.smsGuardRelease(this.names.duplicate(fingerprint), id).catch(() => 0);
  }
}
