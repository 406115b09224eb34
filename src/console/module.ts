// The operator console at /console: a handset emulator speaking every channel's wire format
// through the real /ussd routes, the menus as graphs, the funnel, orders and the needs_attention
// queue, campaigns and agents. Static assets are built by `npm run build` / `npm ci`
// (scripts/console-build.mjs → build/console/, with Chart.js and dagre vendored from npm):
// nothing is fetched at run time.
//
// Security: nothing under /console but the sign-in page answers without a session; the pages
// call the service's own /api/* routes, which accept a console session in place of the bearer
// token (src/http/auth.ts), and only with the session's CSRF token (X-CSRF-Token) and a
// same-origin Origin on anything but GET/HEAD. Responses carry a strict Content-Security-Policy
// (scripts and styles from /console/assets only).
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Next } from 'koa';
import type { AppContext, ServiceModule } from '../app-context.js';
import { channelAdapters } from '../channels/index.js';
import { smallBody } from '../http/body.js';
import { clientIpResolver } from '../http/client-ip.js';
import { readBody } from '../sms/read-body.js';
import { TRANSITIONS } from '../payments/types.js';
import { ussdOf } from '../ussd/module.js';
import { COOKIE, ConsoleSessions, csrfOk, type ConsoleSession } from './sessions.js';
import { loginPage, LOGIN_STYLE_HASH } from './login-page.js';

/** build/console at the repository root: two levels up from src/console and from dist/console alike. */
export const ASSETS_DIR = fileURLToPath(new URL('../../build/console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function securityHeaders(ctx: Context, csp = CSP): void {
  ctx.set('Content-Security-Policy', csp);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  // same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" with our own form posts.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('Cache-Control', 'no-store');
}

/** A state-changing request from a page of ours: the Origin (when sent) is this service. */
function sameOrigin(ctx: Context, publicUrl: string): boolean {
  const origin = ctx.get('origin');
  if (!origin) return true; // same-origin fetches from older engines; the CSRF token still has to match
  return origin === `${ctx.protocol}://${ctx.host}` || origin === new URL(publicUrl).origin;
}

export function consoleModule(): ServiceModule {
  let sessions: ConsoleSessions;
  let clientIp: ReturnType<typeof clientIpResolver>;

  async function serveAsset(ctx: Context, rel: string): Promise<void> {
    // Only plain relative names inside the assets folder.
    if (!/^[A-Za-z0-9_./-]+$/.test(rel) || rel.split('/').includes('..')) {
      ctx.status = 404;
      return;
    }
    const file = resolve(ASSETS_DIR, rel);
    if (!file.startsWith(resolve(ASSETS_DIR) + sep)) {
      ctx.status = 404;
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
    } catch {
      ctx.status = 404;
      ctx.body = 'not found';
      return;
    }
    securityHeaders(ctx);
    ctx.type = TYPES[extname(file)] ?? 'application/octet-stream';
    ctx.body = await readFile(file);
  }

  async function index(ctx: Context): Promise<void> {
    try {
      const html = await readFile(resolve(ASSETS_DIR, 'index.html'));
      securityHeaders(ctx);
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = html;
    } catch {
      // Started from sources without `npm run build` (or `npm ci`): say what to run.
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = 'console assets are not built: run `npm run build` (npm ci does it too)';
    }
  }

  function sessionInfo(app: AppContext, s: ConsoleSession) {
    const adapters = channelAdapters(app.config);
    const u = ussdOf.get(app);
    return {
      csrf: s.csrf,
      via: s.via,
      channels: [...adapters.entries()]
        .filter(([name]) => name !== 'at')
        .map(([name, a]) => ({
          name,
          method: a.method,
          limit: a.screenMaxChars,
          inputStyle: a.inputStyle,
          repeats: a.repeats,
        })),
      menus: (u?.menus.current() ?? []).map((m) => ({ id: m.id, serviceCode: m.serviceCode, languages: m.languages })),
      defaultServiceCode: app.config.USSD_SERVICE_CODE,
      languages: app.config.USSD_LANGUAGES,
      pricePerPartMinor: app.config.SMS_PRICE_PER_PART_MINOR,
      orderStates: Object.keys(TRANSITIONS),
    };
  }

  async function consoleRoute(app: AppContext, ctx: Context): Promise<void> {
    const path = ctx.path;
    if (path === '/console') return ctx.redirect('/console/');
    if (path === '/console/login') {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') {
        if (await sessions.of(ctx)) return ctx.redirect('/console/');
        securityHeaders(ctx, `${CSP.replace("style-src 'self'", `style-src '${LOGIN_STYLE_HASH}'`)}`);
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = loginPage({ enabled: sessions.enabled, error: typeof ctx.query.error === 'string' ? ctx.query.error : '' });
        return;
      }
      if (ctx.method !== 'POST') {
        ctx.status = 405;
        ctx.set('Allow', 'GET, POST');
        return;
      }
      if (!sameOrigin(ctx, app.config.PUBLIC_URL)) {
        ctx.status = 403;
        ctx.body = 'cross-origin sign-in refused';
        return;
      }
      if (!(await readBody(ctx, smallBody()))) return;
      const ip = clientIp.of(ctx);
      if (!sessions.enabled) {
        ctx.status = 403;
        ctx.body = 'console disabled: set CONSOLE_PASSWORD or API_TOKEN';
        return;
      }
      if ((await sessions.failures(ip, false)) >= app.config.CONSOLE_MAX_FAILED_LOGINS) {
        app.logger.warn({ ip }, 'console sign-in refused: too many wrong passwords');
        ctx.status = 429;
        ctx.set('Retry-After', '900');
        ctx.body = 'too many wrong passwords; try again later';
        return;
      }
      const pw = (ctx.request as { body?: { password?: unknown } }).body?.password;
      const via = typeof pw === 'string' && pw.length <= 1024 ? sessions.check(pw) : undefined;
      if (!via) {
        await sessions.failures(ip, true);
        app.logger.warn({ ip }, 'console sign-in: wrong password');
        return ctx.redirect('/console/login?error=wrong');
      }
      const s = await sessions.create(via);
      sessions.setCookie(ctx, s.id);
      app.logger.info({ ip, via }, 'console sign-in');
      ctx.status = 303;
      ctx.set('Location', '/console/');
      return;
    }

    const session = await sessions.of(ctx);
    if (!session) {
      // The wall: pages send people to sign in; everything else is a plain 401.
      if ((path === '/console/' || path === '/console/index.html') && ctx.method === 'GET') {
        ctx.status = 303;
        ctx.set('Location', '/console/login');
        return;
      }
      ctx.status = 401;
      ctx.body = { error: 'sign in at /console/login' };
      return;
    }
    if (!SAFE.has(ctx.method) && (!sameOrigin(ctx, app.config.PUBLIC_URL) || !csrfOk(session, ctx.get('x-csrf-token') || undefined))) {
      ctx.status = 403;
      ctx.body = { error: 'missing or wrong CSRF token' };
      return;
    }
    if (path === '/console/logout' && ctx.method === 'POST') {
      await sessions.end(session.id);
      sessions.clearCookie(ctx);
      ctx.body = { ok: true };
      return;
    }
    if (path === '/console/api/session' && ctx.method === 'GET') {
      securityHeaders(ctx);
      ctx.body = sessionInfo(app, session);
      return;
    }
    if ((path === '/console/' || path === '/console/index.html') && ctx.method === 'GET') return index(ctx);
    if (path.startsWith('/console/assets/') && ctx.method === 'GET') return serveAsset(ctx, path.slice('/console/assets/'.length));
    ctx.status = 404;
    ctx.body = { error: 'not found' };
  }

  return {
    name: 'console',
    init(app) {
      sessions = new ConsoleSessions(app);
      clientIp = clientIpResolver(app.config.TRUSTED_PROXIES);
    },
    front(app) {
      return async (ctx: Context, next: Next) => {
        const path = ctx.path;
        if (path === '/console' || path.startsWith('/console/')) return consoleRoute(app, ctx);
        // The console's pages call /api/* with their session cookie instead of a bearer token.
        if (path.startsWith('/api/') && !ctx.get('authorization') && ctx.cookies.get(COOKIE)) {
          const s = await sessions.of(ctx);
          if (s) {
            if (!SAFE.has(ctx.method) && (!sameOrigin(ctx, app.config.PUBLIC_URL) || !csrfOk(s, ctx.get('x-csrf-token') || undefined))) {
              ctx.status = 403;
              ctx.body = { error: 'missing or wrong CSRF token' };
              return;
            }
            ctx.state.consoleSession = true;
          }
        }
        return next();
      };
    },
  };
}
