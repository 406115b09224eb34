// Session records in Redis (docs/architecture.md, rules 1 and 2). One hash per session: t (a mark of the last
// request: for cumulative text its length and digest, never the inputs themselves, which may
// hold PINs; see input.ts), r (its stored reply), s (snapshot), n (hop count), m (machine
// version), rs (resume offer), p (the phone the session belongs to), w (a random id every write
// replaces, so a record recreated after expiry or a failover never repeats an earlier one) and
// x (how the session was closed by an end signal, absent while it is open). Four ways in, each
// one script (lua/session-*.lua, their headers name every key and argument) and one round trip:
//   load:  replay check, per-session lock (SET NX PX with a token) and the record;
//   save:  the record + TTL + resume pointer + language, then unlock, only while the lock is
//          still ours (a writer whose lock expired never overwrites a newer state);
//   try:   load and save at once, for the process that wrote the record last: it computes the
//          hop from the record as it wrote it, and the script stores the result only if w shows
//          nobody wrote since (and nobody closed it); otherwise it behaves exactly as load;
//   close: marks the session closed (x) once, and says on which record it was.
import { randomBytes } from 'node:crypto';
import { Command, type Redis } from 'ioredis';
import { loadLua, type LuaScript } from '../lib/lua.js';

/**
 * How a request is recognised as a repeat of the last one processed (its stored reply is then
 * the answer and nothing runs again); docs/channels.md, "Repeats":
 *   'e' the request's mark equals the stored one (the same cumulative text, the same start);
 *   's' sequence marks ("#" + ten digits): the request's number is at most the stored one, so
 *       a late duplicate of an earlier request is answered too (never advanced);
 *   'n' nothing on the wire tells: time marks ("!" + milliseconds). The request's mark is when
 *       it arrived; the stored one is when the last reply was stored (before it was sent) plus
 *       USSD_REPEAT_WINDOW_MS. A request that arrived by then is answered with that reply: it
 *       arrived before the subscriber could have seen it.
 */
export type ReplayMode = 'e' | 's' | 'n';

export interface SessionKeys { sess: string; lock: string; resume: string; lang: string }

export type Loaded =
  /** The record belongs to another phone: nothing of it was read, replayed or locked. */
  | { kind: 'foreign' }
  | { kind: 'replay'; reply: string }
  | { kind: 'busy' }
  /**
   * `text` is the stored mark of the last request (input.ts), not its text. `closed` is how an
   * end signal closed the session ('' while open).
   */
  | { kind: 'session'; text: string; snapshot: string; n: number; machineVersion: string; resumeOffer: string; closed?: string }
  | { kind: 'new'; resume: string; lang: string };

/** What try() did: stored the hop (with the write id it now carries), or found the record changed. */
export type Tried = { kind: 'written'; w: string } | Loaded;

/** What close() found. */
export type Closed =
  | { kind: 'closed'; snapshot: string; reply: string; machineVersion: string }
  | { kind: 'already'; how: string }
  | { kind: 'unknown' }
  | { kind: 'foreign' };

export interface SaveArgs {
  token: string;
  ttlS: number;
  /** The mark of the request's text (textMark): the record never holds the inputs. */
  text: string;
  /** Stored reply ('' while an action is still running). */
  reply: string;
  snapshot: string;
  n: number;
  machineVersion: string;
  resumeOffer: string;
  /** '' delete the phone's resume pointer, '-' leave it, else the new value. */
  resume: string;
  resumeTtlS: number;
  /** '' leave the stored language, else store it. */
  lang: string;
  langTtlS: number;
  /** E.164 phone the session belongs to: a request from any other phone is refused. */
  phone: string;
  unlock: boolean;
}

// Each script once, when this module loads (src/lib/lua.ts); sent by SHA, its source once per
// connection when Redis says NOSCRIPT (see run).
const LOAD_SCRIPT = loadLua(import.meta.url, 'session-load');
const SAVE_SCRIPT = loadLua(import.meta.url, 'session-save');
const TRY_SCRIPT = loadLua(import.meta.url, 'session-try');
const UNLOCK_SCRIPT = loadLua(import.meta.url, 'session-unlock');
const REMEMBER_SCRIPT = loadLua(import.meta.url, 'session-remember');
const CLOSE_SCRIPT = loadLua(import.meta.url, 'session-close');

function loaded(r: string[]): Loaded {
  switch (r[0]) {
    case 'X': return { kind: 'foreign' };
    case 'R': return { kind: 'replay', reply: r[1]! };
    case 'B': return { kind: 'busy' };
    case 'S': return { kind: 'session', text: r[1]!, snapshot: r[2]!, n: Number(r[3]), machineVersion: r[4]!, resumeOffer: r[5]!, closed: r[6] ?? '' };
    default: return { kind: 'new', resume: r[1] ?? '', lang: r[2] ?? '' };
  }
}

const writeIdPrefix = randomBytes(6).toString('base64url');
let writeSeq = 0;
/** Unique across processes and restarts: a random per-process prefix and a counter. */
const writeId = () => `${writeIdPrefix}${(++writeSeq).toString(36)}`;

/** The record's fields in the order session-save.lua and session-try.lua take them (the write id follows). */
function record(a: SaveArgs): (string | number)[] {
  return [a.ttlS, a.text, a.reply, a.snapshot, a.n, a.machineVersion, a.resumeOffer, a.resume, a.resumeTtlS, a.lang, a.langTtlS, a.phone];
}

export class SessionStore {
  private corked = false;

  /**
   * `redis` should be a connection of its own without auto-pipelining: the store batches its
   * writes itself (see send), which costs far less per command than ioredis' pipelines.
   */
  constructor(private readonly redis: Redis) {}

  /** `mark` is the request's mark (input.ts), `phone` its E.164 phone, `mode` how a repeat is told. */
  async load(k: SessionKeys, mark: string, token: string, lockMs: number, phone: string, mode: ReplayMode = 'e'): Promise<Loaded> {
    return loaded((await this.run(LOAD_SCRIPT, [k.sess, k.lock, k.resume, k.lang, mark, token, lockMs, phone, mode])) as string[]);
  }

  /** Stores the hop under our lock: the record's new write id, or '' if the lock was no longer ours. */
  async save(k: SessionKeys, a: SaveArgs): Promise<string> {
    const w = writeId();
    const ok = await this.run(SAVE_SCRIPT, [k.sess, k.lock, k.resume, k.lang, a.token, a.unlock ? '1' : '0', ...record(a), w]);
    return ok === 1 ? w : '';
  }

  /**
   * `mark` is the request's mark for the replay check (by default what the record will keep).
   * Stores the hop if the record is as this process wrote it (write version, text and menu
   * version; not a repeat, not locked); `a.unlock` false keeps the lock taken for it (an action is about to run). Otherwise
   * answers as load() would, with the lock taken when the answer is a record.
   */
  async try(k: SessionKeys, expected: { w: string; text: string }, lockMs: number, a: SaveArgs, mode: ReplayMode = 'e', mark: string = a.text): Promise<Tried> {
    const w = writeId();
    const r = (await this.run(TRY_SCRIPT, [
      k.sess, k.lock, k.resume, k.lang, mark, a.token, lockMs, expected.w, a.unlock ? '0' : '1', expected.text, ...record(a), w, mode,
    ])) as string[];
    return r[0] === 'W' ? { kind: 'written', w } : loaded(r);
  }

  /** Stores `reply` as the answer to the text marked `mark` (lua/session-remember.lua). */
  async rememberReply(k: SessionKeys, mark: string, reply: string, phone: string, ttlS: number, token: string): Promise<string> {
    return (await this.run(REMEMBER_SCRIPT, [k.sess, k.lock, mark, reply, phone, ttlS, token])) as string;
  }

  async unlock(k: SessionKeys, token: string): Promise<void> {
    await this.run(UNLOCK_SCRIPT, [k.lock, token]);
  }

  /** Marks the session closed with `how`, once; `phone` '' skips the owner check. */
  async close(sessKey: string, phone: string, how: string): Promise<Closed> {
    const r = (await this.run(CLOSE_SCRIPT, [sessKey, phone, how])) as string[];
    switch (r[0]) {
      case 'C': return { kind: 'closed', snapshot: r[1]!, reply: r[2]!, machineVersion: r[3]! };
      case 'A': return { kind: 'already', how: r[1]! };
      case 'X': return { kind: 'foreign' };
      default: return { kind: 'unknown' };
    }
  }

  private async run(script: LuaScript, keysAndArgs: (string | number)[]): Promise<unknown> {
    try {
      return await this.send('evalsha', script.sha, script.numberOfKeys, keysAndArgs);
    } catch (err) {
      // Redis restarted (or was flushed) since the script was last sent: send its source once.
      if (!(err as Error)?.message?.startsWith('NOSCRIPT')) throw err;
      return this.send('eval', script.source, script.numberOfKeys, keysAndArgs);
    }
  }

  private send(name: string, body: string, keys: number, keysAndArgs: (string | number)[]): Promise<unknown> {
    // Hold the socket's writes until the end of this turn of the event loop: every hop that
    // reaches Redis in the same turn leaves in one write() instead of one system call each,
    // which is most of what a command costs on a loaded machine.
    const stream = this.redis.stream;
    if (!this.corked && stream?.writable) {
      this.corked = true;
      stream.cork();
      setImmediate(() => {
        this.corked = false;
        stream.uncork();
      });
    }
    return this.redis.sendCommand(new Command(name, [body, keys, ...keysAndArgs], { replyEncoding: 'utf8' })) as Promise<unknown>;
  }
}
