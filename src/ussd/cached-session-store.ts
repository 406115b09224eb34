// Where a hop's session record comes from, and how its writes go (docs/architecture.md, "The
// life of a hop"). Most hops reach the process that answered the previous one: this store keeps
// the last record it wrote per session, hands it to the hop without a round trip, and makes the
// hop's first write a compare-and-set on the record's write id (SessionStore.try: load and save
// in one script). If anyone else wrote since, that write answers what a load would have, with
// the lock taken for us, and the hop steps again from it. Otherwise a hop starts with a load
// under the lock (waiting while another request of the session holds it). Either way the engine
// sees the same thing: a record to step from, and writes that either store, lose the lock, or
// (only a first write over a record it was handed) say where the record really is.
import type { Loaded, ReplayMode, SessionKeys, SessionRecord, SessionStore, SessionWrite } from './session-store.js';

/** Sessions this process answered last, at most this many (each about 1 KB). */
const RECENT_MAX = 4_096;

/** A record this process wrote, its write id and the phone it belongs to. */
interface Written {
  w: string;
  rec: SessionRecord;
  phone: string;
}

/** What the store reads of a hop, and the one field it keeps on it. */
export interface SessionHop {
  /** The session's key: the aggregator's id, scoped per channel (sessionKeyOf). */
  sid: string;
  k: SessionKeys;
  token: string;
  /** The request's mark (input.ts) and how a repeat of it is told. */
  mark: string;
  mode: ReplayMode;
  phone: { e164: string };
  lockMs: number;
  /** When the reply must be on its way: waiting for a busy session stops there. */
  deadlineAt: number;
  /** The store's: the record this hop was handed without a load, until its first write. */
  expect: Written | undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class CachedSessionStore {
  /** The last record this process wrote per session: the next hop's starting point, if still current. */
  private readonly recent = new Map<string, Written>();

  constructor(readonly store: SessionStore) {}

  /**
   * The record the hop starts from: the one this process wrote last (no round trip; the first
   * write checks it), else what a load under the lock finds. 'busy' only once waiting for
   * another request of the session would pass the hop's deadline.
   */
  begin(hop: SessionHop): Loaded | Promise<Loaded> {
    const last = this.recent.get(hop.sid);
    // A repeat of that hop's own request is a replay: load answers it without computing anything.
    if (last && last.rec.mark !== hop.mark && last.phone === hop.phone.e164) {
      hop.expect = last;
      return last.rec;
    }
    return this.untilFree(hop, undefined);
  }

  /**
   * Stores one write of the hop: its write id, '' if the lock was no longer ours, or, when the
   * record the hop was handed is no longer the one in Redis, what is there now (a replay, busy,
   * another phone's, or the record with our lock on it) and nothing was written.
   */
  async write(hop: SessionHop, a: SessionWrite): Promise<string | Loaded> {
    const last = hop.expect;
    let w: string;
    if (last) {
      hop.expect = undefined; // from here on the hop's writes are under its lock
      const r = await this.store.try(hop.k, { w: last.w, mark: last.rec.mark }, hop.lockMs, a, hop.mode, hop.mark);
      if (r.kind !== 'written') {
        // Unless a concurrent hop of this session has already written a newer one.
        if (this.recent.get(hop.sid) === last) this.recent.delete(hop.sid);
        return this.untilFree(hop, r);
      }
      w = r.w;
    } else {
      w = await this.store.save(hop.k, a);
    }
    // An ended session takes no more hops; a lost write leaves Redis the only truth.
    this.remember(hop.sid, a.reply && !a.reply.continues ? '' : w, a, hop.phone.e164);
    return w;
  }

  /** After a write that failed: Redis is the only truth for the session. */
  forget(sid: string): void {
    this.recent.delete(sid);
  }

  /** Releases the hop's lock if it holds it (harmless when it never took it). */
  async release(hop: SessionHop): Promise<void> {
    await this.store.unlock(hop.k, hop.token).catch(() => undefined);
  }

  /** SessionStore.close, and this process forgets the session once it is closed. */
  async close(sid: string, k: SessionKeys, phone: string, how: string): ReturnType<SessionStore['close']> {
    const r = await this.store.close(k.sess, phone, how);
    if (r.kind === 'closed') this.recent.delete(sid);
    return r;
  }

  private async untilFree(hop: SessionHop, loaded: Loaded | undefined): Promise<Loaded> {
    let wait = 2;
    while (loaded === undefined || loaded.kind === 'busy') {
      if (loaded?.kind === 'busy') {
        // Another request for this session holds the lock (an aggregator retry overlapping the
        // original): wait for its reply, which we then replay, but never past our own deadline.
        if (Date.now() + wait >= hop.deadlineAt) return loaded;
        await sleep(wait);
        wait = Math.min(wait * 2, 40);
      }
      loaded = await this.store.load(hop.k, hop.mark, hop.token, hop.lockMs, hop.phone.e164, hop.mode);
    }
    return loaded;
  }

  private remember(sid: string, w: string, a: SessionWrite, phone: string): void {
    if (!w) {
      this.recent.delete(sid);
      return;
    }
    // Oldest session first out: a session lives minutes, so insertion order is age order enough.
    if (this.recent.size >= RECENT_MAX && !this.recent.has(sid)) this.recent.delete(this.recent.keys().next().value!);
    // The typed state only (xstate never changes a context in place): no JSON kept alive.
    const rec: SessionRecord = {
      kind: 'session',
      mark: a.mark,
      state: a.state,
      n: a.n,
      machineVersion: a.machineVersion,
      resumeOffer: a.resumeOffer,
      closed: '',
    };
    this.recent.set(sid, { w, rec, phone });
  }
}
