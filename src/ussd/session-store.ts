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
import type { UssdReply } from '../channels/types.js';
import { loadLua, type LuaScript } from '../lib/lua.js';
import type { Lang } from '../menus/types.js';
import {
  decodeReply,
  decodeResume,
  decodeState,
  encodeReply,
  encodeResume,
  encodeState,
  replyEnded,
  type ResumePointer,
  type SessionState,
} from './session-codec.js';

export type { ResumePointer, SessionState };

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

export interface SessionKeys {
  sess: string;
  lock: string;
  resume: string;
  lang: string;
}

/** A session record as loaded or written; every value typed (the strings are session-codec.ts's business). */
export interface SessionRecord {
  kind: 'session';
  /** The stored mark of the last request (input.ts), never its text. */
  mark: string;
  /** undefined when the stored snapshot cannot be read: the record counts as expired. */
  state: SessionState | undefined;
  n: number;
  machineVersion: string;
  /** The dropped session this record offers to resume, while it offers it. */
  resumeOffer: SessionState | undefined;
  /** How an end signal closed the session ('' while open). */
  closed: string;
}

export type Loaded =
  /** The record belongs to another phone: nothing of it was read, replayed or locked. */
  | { kind: 'foreign' }
  | { kind: 'replay'; reply: UssdReply }
  | { kind: 'busy' }
  | SessionRecord
  /** No record: the phone's resume pointer and remembered language, if any. */
  | { kind: 'new'; resume: ResumePointer | undefined; lang: Lang | undefined };

/** What try() did: stored the hop (with the write id it now carries), or found the record changed. */
export type Tried = { kind: 'written'; w: string } | Loaded;

/** What close() found; on 'closed', the screen the record was on and whether our END had already finished it. */
export type Closed =
  | { kind: 'closed'; screen: string | undefined; completed: boolean; machineVersion: string }
  | { kind: 'already'; how: string }
  | { kind: 'unknown' }
  | { kind: 'foreign' };

/** What a write does with the phone's resume pointer. It outlives the session: it never carries PINs or codes. */
export type ResumeWrite = 'keep' | 'clear' | ResumePointer;

export interface SessionWrite {
  /** The hop's lock token. */
  token: string;
  /** The request's mark as the record keeps it (input.ts): the record never holds the inputs. */
  mark: string;
  /** The reply, or undefined while an action is still running on this state. */
  reply: UssdReply | undefined;
  state: SessionState;
  n: number;
  machineVersion: string;
  resumeOffer: SessionState | undefined;
  resume: ResumeWrite;
  /** The phone's language to remember, or undefined to leave the stored one. */
  lang: Lang | undefined;
  /** E.164 phone the session belongs to: a request from any other phone is refused. */
  phone: string;
  /** false keeps the lock after writing (an action is about to run). */
  unlock: boolean;
}

/** How long each key lives. */
export interface SessionTtls {
  /** The record (SESSION_TTL_S). */
  sessionS: number;
  /** The phone's resume pointer (SESSION_TTL_S + RESUME_WINDOW_S). */
  resumeS: number;
  /** The phone's language (LANGUAGE_TTL_S). */
  langS: number;
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
    case 'X':
      return { kind: 'foreign' };
    case 'R':
      return { kind: 'replay', reply: decodeReply(r[1]!) };
    case 'B':
      return { kind: 'busy' };
    case 'S':
      return {
        kind: 'session',
        mark: r[1]!,
        state: decodeState(r[2]!),
        n: Number(r[3]),
        machineVersion: r[4]!,
        resumeOffer: r[5] ? decodeState(r[5]) : undefined,
        closed: r[6] ?? '',
      };
    default:
      return { kind: 'new', resume: decodeResume(r[1] ?? ''), lang: r[2] || undefined };
  }
}

const writeIdPrefix = randomBytes(6).toString('base64url');
let writeSeq = 0;
/** Unique across processes and restarts: a random per-process prefix and a counter. */
const writeId = () => `${writeIdPrefix}${(++writeSeq).toString(36)}`;

/**
 * The record's fields as session-save.lua and session-try.lua take them (the write id follows):
 * ttl, t, r ('' while an action runs), s, n, m, rs, the resume pointer ('' delete, '-' keep,
 * else its value) and its ttl, the language ('' keep) and its ttl, p.
 */
function record(a: SessionWrite, ttl: SessionTtls): (string | number)[] {
  const s = encodeState(a.state);
  const r = a.resume;
  // The pointer to a state with no secrets in it is the record's own state: encoded once.
  const resume = r === 'keep' ? '-' : r === 'clear' ? '' : encodeResume(r, r.state === a.state ? s : undefined);
  return [
    ttl.sessionS,
    a.mark,
    a.reply ? encodeReply(a.reply) : '',
    s,
    a.n,
    a.machineVersion,
    a.resumeOffer ? encodeState(a.resumeOffer) : '',
    resume,
    ttl.resumeS,
    a.lang ?? '',
    ttl.langS,
    a.phone,
  ];
}

export class SessionStore {
  private corked = false;

  /**
   * `redis` should be a connection of its own without auto-pipelining: the store batches its
   * writes itself (see send), which costs far less per command than ioredis' pipelines.
   */
  constructor(
    private readonly redis: Redis,
    private readonly ttl: SessionTtls,
  ) {}

  /** `mark` is the request's mark (input.ts), `phone` its E.164 phone, `mode` how a repeat is told. */
  async load(k: SessionKeys, mark: string, token: string, lockMs: number, phone: string, mode: ReplayMode = 'e'): Promise<Loaded> {
    return loaded((await this.run(LOAD_SCRIPT, [k.sess, k.lock, k.resume, k.lang, mark, token, lockMs, phone, mode])) as string[]);
  }

  /** Stores the hop under our lock: the record's new write id, or '' if the lock was no longer ours. */
  async save(k: SessionKeys, a: SessionWrite): Promise<string> {
    const w = writeId();
    const ok = await this.run(SAVE_SCRIPT, [k.sess, k.lock, k.resume, k.lang, a.token, a.unlock ? '1' : '0', ...record(a, this.ttl), w]);
    return ok === 1 ? w : '';
  }

  /**
   * `mark` is the request's mark for the replay check (by default what the record will keep).
   * Stores the hop if the record is as this process wrote it (write version, text and menu
   * version; not a repeat, not locked); `a.unlock` false keeps the lock taken for it (an action is about to run). Otherwise
   * answers as load() would, with the lock taken when the answer is a record.
   */
  async try(
    k: SessionKeys,
    expected: { w: string; mark: string },
    lockMs: number,
    a: SessionWrite,
    mode: ReplayMode = 'e',
    mark: string = a.mark,
  ): Promise<Tried> {
    const w = writeId();
    const r = (await this.run(TRY_SCRIPT, [
      k.sess,
      k.lock,
      k.resume,
      k.lang,
      mark,
      a.token,
      lockMs,
      expected.w,
      a.unlock ? '0' : '1',
      expected.mark,
      ...record(a, this.ttl),
      w,
      mode,
    ])) as string[];
    return r[0] === 'W' ? { kind: 'written', w } : loaded(r);
  }

  /** Stores `reply` as the answer to the text marked `mark` (lua/session-remember.lua). */
  async rememberReply(k: SessionKeys, mark: string, reply: UssdReply, phone: string, token: string): Promise<string> {
    return (await this.run(REMEMBER_SCRIPT, [k.sess, k.lock, mark, encodeReply(reply), phone, this.ttl.sessionS, token])) as string;
  }

  async unlock(k: SessionKeys, token: string): Promise<void> {
    await this.run(UNLOCK_SCRIPT, [k.lock, token]);
  }

  /** Marks the session closed with `how`, once; `phone` '' skips the owner check. */
  async close(sessKey: string, phone: string, how: string): Promise<Closed> {
    const r = (await this.run(CLOSE_SCRIPT, [sessKey, phone, how])) as string[];
    switch (r[0]) {
      case 'C':
        return { kind: 'closed', screen: decodeState(r[1]!)?.v, completed: replyEnded(r[2]!), machineVersion: r[3]! };
      case 'A':
        return { kind: 'already', how: r[1]! };
      case 'X':
        return { kind: 'foreign' };
      default:
        return { kind: 'unknown' };
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
    const args = [body, String(keys)];
    for (const a of keysAndArgs) args.push(typeof a === 'string' ? a : String(a));
    return this.redis.sendCommand(command(name, args)) as Promise<unknown>;
  }
}

/**
 * The command for arguments that are already flat strings. ioredis' constructor copies its
 * arguments with Array.prototype.flat(), which for the 26 of a session write costs about 2 µs
 * of a ~95 µs hop (more than putting them on the wire; bench/ussd-bench.ts measures the hop):
 * this one hands the constructor an empty list and sets the strings after. `flatArgsWork` checks
 * when this module loads that the result is the same command as ioredis' own (same bytes on the
 * wire, same keys for a Cluster's slot); if an upgrade of ioredis breaks that, its own is used.
 */
function flatCommand(name: string, args: string[]): Command {
  const c = new Command(name, [], { replyEncoding: 'utf8' });
  c.args = args;
  return c;
}

function plainCommand(name: string, args: string[]): Command {
  return new Command(name, args, { replyEncoding: 'utf8' });
}

export function flatArgsWork(): boolean {
  const args = ['0123456789abcdef', '2', 'k:{a}:1', 'k:{a}:2', 'é\n', ''];
  const a = flatCommand('evalsha', args.slice());
  const b = plainCommand('evalsha', args.slice());
  return a.toWritable(null as never) === b.toWritable(null as never) && JSON.stringify(a.getKeys()) === JSON.stringify(b.getKeys());
}

const command = flatArgsWork() ? flatCommand : plainCommand;
