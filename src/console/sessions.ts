// Console sign-ins: a random session id in an HttpOnly, SameSite=Strict cookie (Secure behind
// TLS), kept in Redis by its SHA-256 only (a Redis dump names no usable session), with its
// CSRF token; sliding expiry CONSOLE_SESSION_TTL_S. Wrong passwords are counted per client
// address (CONSOLE_MAX_FAILED_LOGINS per 15 minutes).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { AppContext } from '../app-context.js';
import { keyNames, type KeyNames } from '../keys.js';

export const COOKIE = 'console_session';
const FAIL_WINDOW_S = 900;

export interface ConsoleSession {
  id: string;
  csrf: string;
  createdAt: string;
  via: 'token' | 'password';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** What ConsoleSessions uses of the application context (and nothing else of it). */
type ConsoleSessionsDeps = Pick<AppContext, 'config' | 'key' | 'redis'>;

export class ConsoleSessions {
  private readonly secrets: Array<{ via: 'token' | 'password'; d: Buffer }>;
  private readonly names: KeyNames['console'];

  constructor(private readonly app: ConsoleSessionsDeps) {
    this.names = keyNames(app.key).console;
    const c = app.config;
    this.secrets = [
      ...(c.API_TOKEN ? [{ via: 'token' as const, d: digest(c.API_TOKEN) }] : []),
      ...(c.CONSOLE_PASSWORD ? [{ via: 'password' as const, d: digest(c.CONSOLE_PASSWORD) }] : []),
    ];
  }

  /** False when neither API_TOKEN nor CONSOLE_PASSWORD is set: nobody can sign in. */
  get enabled(): boolean {
    return this.secrets.length > 0;
  }

  private key(id: string): string {
    return this.names.session(id);
  }

  /** Which secret the password is (compared as digests, in constant time, against each), or undefined. */
  check(password: string): 'token' | 'password' | undefined {
    const d = digest(password);
    let via: 'token' | 'password' | undefined;
    for (const s of this.secrets) if (timingSafeEqual(d, s.d)) via ??= s.via;
    return via;
  }

  /** Wrong passwords from this address in the window, after counting this one when `count`. */
  async failures(ip: string, count: boolean): Promise<number> {
    const k = this.names.failures(ip);
    if (!count) return Number((await this.app.redis.get(k)) ?? 0);
    const [[, n]] = (await this.app.redis.multi().incr(k).expire(k, FAIL_WINDOW_S, 'NX').exec()) as [[unknown, number]];
    return n;
  }

  async create(via: 'token' | 'password'): Promise<ConsoleSession> {
    const s: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      createdAt: new Date().toISOString(),
      via,
    };
    await this.app.redis.set(this.key(s.id), JSON.stringify({ csrf: s.csrf, createdAt: s.createdAt, via }), 'EX', this.app.config.CONSOLE_SESSION_TTL_S);
    return s;
  }

  /** The session a request's cookie names, its expiry pushed on (sliding), or undefined. */
  async of(ctx: Context): Promise<ConsoleSession | undefined> {
    const id = ctx.cookies.get(COOKIE);
    if (!id || id.length > 100) return undefined;
    const raw = await this.app.redis.getex(this.key(id), 'EX', this.app.config.CONSOLE_SESSION_TTL_S);
    if (!raw) return undefined;
    const v = JSON.parse(raw) as Omit<ConsoleSession, 'id'>;
    return { id, ...v };
  }

  async end(id: string): Promise<void> {
    await this.app.redis.del(this.key(id));
  }

  /** Secure when the service is reached over TLS: PUBLIC_URL says https, or the connection is TLS. */
  secure(ctx: Context): boolean {
    return this.app.config.PUBLIC_URL.startsWith('https://') || ctx.protocol === 'https';
  }

  // Written by hand: Koa's cookie helper refuses a Secure cookie on a plain connection, which is
  // exactly the case behind a TLS-terminating proxy (the service runs with proxy: false).
  setCookie(ctx: Context, id: string): void {
    const attrs = [`${COOKIE}=${id}`, 'Path=/', `Max-Age=${this.app.config.CONSOLE_SESSION_TTL_S}`, 'HttpOnly', 'SameSite=Strict'];
    if (this.secure(ctx)) attrs.push('Secure');
    ctx.append('Set-Cookie', attrs.join('; '));
  }

  clearCookie(ctx: Context): void {
    const attrs = [`${COOKIE}=`, 'Path=/', 'Max-Age=0', 'HttpOnly', 'SameSite=Strict'];
    if (this.secure(ctx)) attrs.push('Secure');
    ctx.append('Set-Cookie', attrs.join('; '));
  }
}

/** The CSRF token a state-changing request carries in X-CSRF-Token (or a form's `csrf`), checked in constant time. */
export function csrfOk(session: ConsoleSession, sent: string | undefined): boolean {
  if (!sent) return false;
  const a = digest(sent);
  const b = digest(session.csrf);
  return timingSafeEqual(a, b);
}
