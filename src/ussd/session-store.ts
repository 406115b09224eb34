// Session records in Redis, two round trips per hop (DESIGN traps 1 and 2):
//   load: replay check, per-session lock (SET NX PX with a token) and the record, in one script;
//   save: record + TTL + resume pointer + language, then unlock, in one script, only while the
//         lock is still ours (a writer whose lock expired never overwrites a newer state).
import type { Redis } from 'ioredis';

const LOAD = `
local f = redis.call('HMGET', KEYS[1], 't', 'r', 's', 'n', 'm', 'rs')
if f[1] == ARGV[1] and f[2] and f[2] ~= '' then return {'R', f[2]} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'B'} end
if f[3] then return {'S', f[1] or '', f[3], f[4] or '0', f[5] or '', f[6] or ''} end
return {'N', redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[4]) or ''}
`;

// ARGV: token, ttlS, t, r, s, n, m, rs, resume ('' delete, '-' keep, else value), resumeTtlS,
//       lang ('' keep), langTtlS, unlock ('1'/'0')
const SAVE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[3], 'r', ARGV[4], 's', ARGV[5], 'n', ARGV[6], 'm', ARGV[7], 'rs', ARGV[8])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[9] == '' then redis.call('DEL', KEYS[3])
elseif ARGV[9] ~= '-' then redis.call('SET', KEYS[3], ARGV[9], 'EX', ARGV[10]) end
if ARGV[11] ~= '' then redis.call('SET', KEYS[4], ARGV[11], 'EX', ARGV[12]) end
if ARGV[13] == '1' then redis.call('DEL', KEYS[2]) end
return 1
`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface SessionKeys { sess: string; lock: string; resume: string; lang: string }

export type Loaded =
  | { kind: 'replay'; reply: string }
  | { kind: 'busy' }
  | { kind: 'session'; text: string; snapshot: string; n: number; machineVersion: string; resumeOffer: string }
  | { kind: 'new'; resume: string; lang: string };

export interface SaveArgs {
  token: string;
  ttlS: number;
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
  unlock: boolean;
}

type Cmd = (...args: (string | number)[]) => Promise<unknown>;

export class SessionStore {
  private readonly load$: Cmd;
  private readonly save$: Cmd;
  private readonly unlock$: Cmd;

  constructor(private readonly redis: Redis) {
    // defineCommand caches the SHA and falls back to EVAL when the script is not loaded yet.
    if (!(redis as unknown as Record<string, unknown>).ussdLoad) {
      redis.defineCommand('ussdLoad', { numberOfKeys: 4, lua: LOAD });
      redis.defineCommand('ussdSave', { numberOfKeys: 4, lua: SAVE });
      redis.defineCommand('ussdUnlock', { numberOfKeys: 1, lua: UNLOCK });
    }
    const r = redis as unknown as Record<string, Cmd>;
    this.load$ = r.ussdLoad!.bind(redis);
    this.save$ = r.ussdSave!.bind(redis);
    this.unlock$ = r.ussdUnlock!.bind(redis);
  }

  async load(k: SessionKeys, text: string, token: string, lockMs: number): Promise<Loaded> {
    const r = (await this.load$(k.sess, k.lock, k.resume, k.lang, text, token, lockMs)) as string[];
    switch (r[0]) {
      case 'R': return { kind: 'replay', reply: r[1]! };
      case 'B': return { kind: 'busy' };
      case 'S': return { kind: 'session', text: r[1]!, snapshot: r[2]!, n: Number(r[3]), machineVersion: r[4]!, resumeOffer: r[5]! };
      default: return { kind: 'new', resume: r[1] ?? '', lang: r[2] ?? '' };
    }
  }

  async save(k: SessionKeys, a: SaveArgs): Promise<boolean> {
    const ok = await this.save$(
      k.sess, k.lock, k.resume, k.lang,
      a.token, a.ttlS, a.text, a.reply, a.snapshot, a.n, a.machineVersion, a.resumeOffer,
      a.resume, a.resumeTtlS, a.lang, a.langTtlS, a.unlock ? '1' : '0',
    );
    return ok === 1;
  }

  async unlock(k: SessionKeys, token: string): Promise<void> {
    await this.unlock$(k.lock, token);
  }
}
