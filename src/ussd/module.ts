// The USSD engine's routes: POST /ussd (Africa's Talking), /ussd/<channel> for every enabled
// aggregator (method per channel), POST /ussd/africastalking/events (AT's end-of-session
// notification), POST /ussd/infobip/<sessionId>/<step>, and GET /api/ussd/funnel.
// Menus are loaded and checked in init against every enabled channel's screen limit: a broken
// menu stops the service from starting.
import type { Context, Next } from 'koa';
import type { AppContext, ServiceModule } from '../app-context.js';
import { channelAdapters } from '../channels/index.js';
import type { ChannelAdapter } from '../channels/types.js';
import type { Logger } from '../log.js';
import { MenuError, type CompiledMenu } from '../menus/types.js';
import { needsProblems, varProblems } from './action-needs.js';
import { loadCheckedMenus, MenuService } from './menu-service.js';
import { menusRoutes } from './menus-route.js';
import { lateSmsSender } from './late-sms.js';
import { UssdEngine } from './engine.js';
import { Funnel } from './funnel.js';
import { funnelRoute } from './funnel-route.js';
import { registerPlaceholders } from './placeholders.js';
import { UssdServer } from './serve.js';
import { closeRedis, createRedis, waitReady, type Redis } from '../redis.js';

/** A malformed %-escape names no channel (404), rather than throwing. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function answer(ctx: Context, status: number, text: string, allow?: string): void {
  ctx.status = status;
  ctx.type = 'text/plain';
  ctx.body = text;
  if (allow) ctx.set('Allow', allow);
}

/** For the console, tests and scripts: the module's objects by AppContext. */
export const ussdOf = new WeakMap<AppContext, { engine: UssdEngine; menus: MenuService; funnel: Funnel }>();

export function ussdModule(): ServiceModule {
  let engine: UssdEngine | undefined;
  let funnel: Funnel | undefined;
  let server: UssdServer | undefined;
  let menuActions: string[] = [];
  let loadedMenus: CompiledMenu[] = [];
  let sessionRedis: Redis | undefined;
  let adapters: Map<string, ChannelAdapter>;
  let menuService: MenuService | undefined;
  let onHup: (() => void) | undefined;

  /** /ussd/<rest>: a channel's route, its sub-routes (AT events, Infobip steps), else 404/405. */
  function route(ctx: Context, rest: string): Promise<void> | void {
    const slash = rest.indexOf('/');
    const channel = adapters.get(safeDecode(slash < 0 ? rest : rest.slice(0, slash)));
    if (!channel) return answer(ctx, 404, 'unknown channel');
    let serve: () => Promise<void>;
    if (slash < 0) {
      if (channel.name === 'infobip') return answer(ctx, 404, 'Infobip calls /ussd/infobip/<sessionId>/start|response|end');
      serve = () => server!.handle(ctx, channel);
    } else {
      const sub = rest.slice(slash + 1);
      if (channel.name === 'africastalking' && sub === 'events') serve = () => server!.atEvent(ctx, channel);
      else if (channel.name === 'infobip' && /^[^/]+\/[^/]+$/.test(sub)) serve = () => server!.handle(ctx, channel);
      else return answer(ctx, 404, 'unknown route');
    }
    const method = slash < 0 ? channel.method : 'POST';
    if (ctx.method !== method) return answer(ctx, 405, `use ${method}`, method);
    return serve();
  }

  return {
    name: 'ussd',
    async init(app) {
      const c = app.config;
      // Gateway roles and action variables are checked in ready(), once every module has
      // registered its actions.
      const menus = loadCheckedMenus(app, { roles: false });
      registerPlaceholders(app.actions);
      // The per-hop line carries only fields built here (ids, masked phone, screen, timing), never
      // input values, so it skips the path-based redaction that costs ~13 µs of a ~200 µs hop.
      // Every other line keeps the redaction.
      const hopLog: Logger = app.logger.child({}, { redact: { paths: [], censor: '' } });
      loadedMenus = menus;
      menuActions = [...new Set(menus.flatMap((m) => [...m.screens.values()].flatMap((s) => (s.kind === 'action' ? [s.action] : []))))];
      // Sessions get their own connection: the store batches its writes per turn of the event
      // loop, so the scripts of many concurrent hops leave in one socket write.
      // Its scripts are not safe to run twice: a command cut off by a dropped connection fails
      // (the hop answers politely) instead of being re-sent after the reconnect.
      sessionRedis = createRedis(c.REDIS_URL, { autoResendUnfulfilledCommands: false, commandTimeout: c.REDIS_COMMAND_TIMEOUT_MS });
      sessionRedis.on('error', (err) => app.logger.debug({ err: err.message }, 'ussd session redis error'));
      if (app.redis.status === 'ready') await waitReady(sessionRedis, 3000).catch(() => undefined);
      engine = new UssdEngine(app, menus, sessionRedis, lateSmsSender(app));
      const eng = engine;
      funnel = new Funnel(app, (code) => eng.menuByCode(code));
      // Flushed on a timer from here (not start()): a process without workers serves USSD too.
      funnel.start();
      server = new UssdServer(app, engine, funnel, hopLog);
      adapters = channelAdapters(c);
      menuService = new MenuService(app, engine);
      ussdOf.set(app, { engine, menus: menuService, funnel });
      // `kill -HUP <pid>` reloads the menus (production: no watcher). Removed again in stop().
      const ms = menuService;
      onHup = () => void ms.reload('SIGHUP');
      process.on('SIGHUP', onHup);
      if (c.MENUS_WATCH ?? c.NODE_ENV === 'development') menuService.watch();
      app.logger.info(
        { menus: menus.map((m) => `${m.file} ${m.serviceCode} v${m.version}`), channels: c.USSD_CHANNELS, countries: c.PHONE_COUNTRIES },
        'ussd menus loaded',
      );
    },
    ready(app) {
      // Every action a menu names must be doable by the gateways configured for its roles.
      // …and every variable an action reads must be set on every way to its screen.
      const problems = [
        ...needsProblems(loadedMenus, (a, p) => app.actions.needs(a, p), app.gateways),
        ...varProblems(loadedMenus, (a, p) => app.actions.vars(a, p)),
      ];
      if (problems.length) throw new MenuError(problems);
    },
    async stop() {
      if (onHup) process.removeListener('SIGHUP', onHup);
      menuService?.close();
      await funnel?.stop().catch(() => undefined);
      if (sessionRedis) await closeRedis(sessionRedis);
    },
    start(app) {
      // Modules register handlers in their init; by now every menu action should have one.
      const missing = menuActions.filter((a) => !app.actions.has(a));
      if (missing.length) app.logger.warn({ missing }, 'menu actions without a handler: those screens answer with their failure outcome');
    },
    front() {
      const at = adapters.get('africastalking');
      // The aggregators' callbacks skip the router: matching its ~60 routes (and their
      // middleware) costs more per hop than parsing the body. Everything else falls through.
      return (ctx: Context, next: Next) => {
        const path = ctx.path;
        if (path === '/ussd' || path === '/ussd/') return ctx.method === 'POST' && at ? server!.handle(ctx, at) : next();
        if (!path.startsWith('/ussd/')) return next();
        return route(ctx, path.endsWith('/') ? path.slice(6, -1) : path.slice(6));
      };
    },
    routes(router, app) {
      // /ussd is served by front() first; declared here too so other methods get 405 with Allow.
      router.post('/ussd', (ctx) => {
        const at = adapters.get('africastalking');
        return at ? server!.handle(ctx, at) : answer(ctx, 404, 'unknown channel');
      });
      funnelRoute(
        router,
        app,
        () => engine!,
        () => funnel!,
      );
      menusRoutes(router, app, () => menuService!);
    },
  };
}
