// Bearer-token guard for /api/*. With API_TOKEN unset the HTTP API is refused outright
// (README, "HTTP routes"), so a forgotten variable never leaves operator routes open. A signed-in console
// session stands in for the token: the console module has checked its cookie (and, for
// anything but GET/HEAD, its CSRF token and origin) and says so in ctx.state.consoleSession.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Config } from '../config.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function requireApiToken(config: Pick<Config, 'API_TOKEN'>): Middleware {
  const expected = config.API_TOKEN ? digest(config.API_TOKEN) : undefined;
  return async (ctx, next) => {
    if (ctx.state.consoleSession === true) {
      await next();
      return;
    }
    if (!expected) {
      ctx.status = 403;
      ctx.body = { error: 'HTTP API disabled: set API_TOKEN' };
      return;
    }
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    // Compare digests so the comparison is constant-time whatever the token's length.
    if (!token || !timingSafeEqual(digest(token), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer');
      ctx.body = { error: 'missing or wrong bearer token' };
      return;
    }
    await next();
  };
}
