// Session records in Redis (docs/architecture.md, rules 1 and 2). One hash per session: t (a mark of the last
// request: for cumulative text its length and digest, never the inputs themselves, which may
// hold PINs; see input.ts), r (its stored reply), s (snapshot), n (hop count), m (machine
// version), rs (resume offer), p (the phone the session belongs to), w (a random id every write
// replaces, so a record recreated after expiry or a failover never repeats an earlier one) and
// x (how the session was closed by an end signal, absent while it is open). Four ways in, each
// one script and one round trip:
//   load:  replay check, per-session lock (SET NX PX with a token) and the record;
//   save:  the record + TTL + resume pointer + language, then unlock, only while the lock is
//          still ours (a writer whose lock expired never overwrites a newer state);
//   try:   load and save at once, for the process that wrote the record last: it computes the
//          hop from the record as it wrote it, and the script stores the result only if w shows
//          nobody wrote since (and nobody closed it); otherwise it behaves exactly as load;
//   close: marks the session closed (x) once, and says on which record it was.
import { createHash, randomBytes } from 'node:crypto';
import { Command, type Redis } from 'ioredis';

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

/**
 * Lua that reads the record (f) and returns "foreign" (another phone's session: nothing is
 * read, replayed or locked for it), a replay or "busy", or takes the lock. A lock that already
 * holds our token is ours: the same script run twice (a command re-sent after a reconnect)
 * must not wait for itself. `phone` and `mode` are the ARGVs holding the caller's phone and
 * its ReplayMode.
 */
function readAndLock(phone: string, mode: string): string {
  return `
local f = redis.call('HMGET', KEYS[1], 't', 'r', 's', 'n', 'm', 'rs', 'w', 'p', 'x')
if f[8] and f[8] ~= '' and f[8] ~= ${phone} then return {'X'} end
if f[2] and f[2] ~= '' then
  local t = f[1] or ''
  local again = t == ARGV[1]
  if not again and ${mode} == 's' then again = string.byte(t) == 35 and #t == #ARGV[1] and ARGV[1] < t end
  if not again and ${mode} == 'n' and string.byte(t) == 33 then
    local arrived, stored = tonumber(string.sub(ARGV[1], 2)), tonumber(string.sub(t, 2))
    again = arrived ~= nil and stored ~= nil and arrived <= stored
  end
  if again then return {'R', f[2]} end
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) and redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'B'} end
`;
}

const RETURN_RECORD = `
if f[3] then return {'S', f[1] or '', f[3], f[4] or '0', f[5] or '', f[6] or '', f[9] or ''} end
return {'N', redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[4]) or ''}
`;

/** Lua that writes the record from ARGV[a..a+12] (its write id last). */
function writeRecord(a: number): string {
  const A = (i: number) => `ARGV[${a + i}]`;
  // ttlS, t, r, s, n, m, rs, resume ('' delete, '-' keep, else value), resumeTtlS, lang ('' keep), langTtlS, p, w
  return `
redis.call('HSET', KEYS[1], 't', ${A(1)}, 'r', ${A(2)}, 's', ${A(3)}, 'n', ${A(4)}, 'm', ${A(5)}, 'rs', ${A(6)}, 'p', ${A(11)}, 'w', ${A(12)})
redis.call('EXPIRE', KEYS[1], ${A(0)})
if ${A(7)} == '' then redis.call('DEL', KEYS[3])
elseif ${A(7)} ~= '-' then redis.call('SET', KEYS[3], ${A(7)}, 'EX', ${A(8)}) end
if ${A(9)} ~= '' then redis.call('SET', KEYS[4], ${A(9)}, 'EX', ${A(10)}) end
`;
}

// ARGV: request mark, token, lockMs, phone, replay mode
const LOAD = readAndLock('ARGV[4]', 'ARGV[5]') + RETURN_RECORD;

// ARGV: token, unlock ('1'/'0'), then the record (writeRecord). 1, or 0 if the lock was lost.
const SAVE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
${writeRecord(3)}
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
return 1
`;

// ARGV: request mark, token, lockMs, expected w, keep the lock ('1'/'0'), expected t, then the
// record (writeRecord; its phone is ARGV[18], its write id ARGV[19]), then the replay mode.
// Besides w, the text and the menu version must be as we left them (a writer that does not keep
// w, an older release during a rolling deploy, still changes one of those), and the session
// must not have been closed since.
const TRY = `${readAndLock('ARGV[18]', 'ARGV[20]')}
if f[3] and f[7] == ARGV[4] and f[1] == ARGV[6] and f[5] == ARGV[12] and (not f[9] or f[9] == '') then
${writeRecord(7)}
if ARGV[5] ~= '1' then redis.call('DEL', KEYS[2]) end
return {'W'}
end
${RETURN_RECORD}`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

// KEYS: sess, lock. ARGV: text mark, reply, phone, ttlS, the failed hop's lock token.
// The reply a failed hop gave, stored for its text, unless the record moved on (it holds a reply
// for that text already), belongs to another phone, or is locked by another hop at work. A
// record the failed hop itself left mid-action (its text, no reply yet) is closed: its snapshot
// goes, so nothing re-runs that action; a repeat replays the reply, a new request starts afresh.
const REMEMBER = `
local lock = redis.call('GET', KEYS[2])
if lock and lock ~= ARGV[5] then return 'locked' end
local f = redis.call('HMGET', KEYS[1], 't', 'p', 'r')
if f[2] and f[2] ~= '' and f[2] ~= ARGV[3] then return 'foreign' end
if f[1] == ARGV[1] and f[3] and f[3] ~= '' then return 'moved' end
if f[1] == ARGV[1] then redis.call('HDEL', KEYS[1], 's') end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'r', ARGV[2], 'p', ARGV[3], 'w', '')
redis.call('EXPIRE', KEYS[1], ARGV[4])
if lock then redis.call('DEL', KEYS[2]) end
return 'stored'`;

// ARGV: phone ('' = any), how. Closes once: {'C', snapshot, reply, machine version}; {'A', how}
// if it was already closed; {'N'} no record; {'X'} another phone's session (left alone).
const CLOSE = `
local f = redis.call('HMGET', KEYS[1], 's', 'r', 'p', 'x', 'm')
if not f[1] then return {'N'} end
if ARGV[1] ~= '' and f[3] and f[3] ~= '' and f[3] ~= ARGV[1] then return {'X'} end
if f[4] and f[4] ~= '' then return {'A', f[4]} end
redis.call('HSET', KEYS[1], 'x', ARGV[2])
return {'C', f[1], f[2] or '', f[5] or ''}
`;

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

/** One Lua script sent by SHA; its source goes once per connection when Redis says NOSCRIPT. */
class Script {
  readonly sha: string;
  constructor(readonly lua: string, readonly keys: number) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

const LOAD_SCRIPT = new Script(LOAD, 4);
const SAVE_SCRIPT = new Script(SAVE, 4);
const TRY_SCRIPT = new Script(TRY, 4);
const UNLOCK_SCRIPT = new Script(UNLOCK, 1);
const REMEMBER_SCRIPT = new Script(REMEMBER, 2);
const CLOSE_SCRIPT = new Script(CLOSE, 1);

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

/** The record's fields in writeRecord's order (the write id follows). */
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

  /** Stores `reply` as the answer to the text marked `mark` (see REMEMBER). */
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

  private async run(script: Script, keysAndArgs: (string | number)[]): Promise<unknown> {
    try {
      return await this.send('evalsha', script.sha, script.keys, keysAndArgs);
    } catch (err) {
      // Redis restarted (or was flushed) since the script was last sent: send its source once.
      if (!(err as Error)?.message?.startsWith('NOSCRIPT')) throw err;
      return this.send('eval', script.lua, script.keys, keysAndArgs);
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
