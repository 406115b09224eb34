// The USSD engine's routes: POST /ussd (Africa's Talking) and POST /ussd/:channel.
// Menus are loaded and checked in init: a broken menu stops the service from starting.
import type { Context } from 'koa';
import type { AppContext, ServiceModule } from '../app-context.js';
import { channelAdapters } from '../channels/index.js';
import type { ChannelAdapter, UssdReply, UssdRequest } from '../channels/types.js';
import { readSmallBody, smallBody } from '../http/body.js';
import { parsePhoneFast, type Phone, type PhoneResult } from '../lib/phone.js';
import { maskPhone, type Logger } from '../log.js';
import { loadMenuDir } from '../menus/load.js';
import { MSG } from '../menus/messages.js';
import { MenuError, type CompiledMenu } from '../menus/types.js';
import { needsProblems } from './action-needs.js';
import { AfterReply } from './after-reply.js';
import { HopGate } from './hop-gate.js';
import { lateSmsSender } from './late-sms.js';
import { UssdEngine, type HopResult } from './engine.js';
import { registerPlaceholders } from './placeholders.js';
import { createRedis, waitReady, type Redis } from '../redis.js';

const UNAVAILABLE: UssdReply = { continues: false, text: MSG.unavailable.en };
const TIMED_OUT: HopResult = { reply: UNAVAILABLE, screen: '-', outcome: 'timeout' };
const PROCESSING: HopResult = { reply: { continues: false, text: MSG.processing.en }, screen: '-', outcome: 'timeout_committed' };

/**
 * The reply of a hop that missed its deadline: "try again" if its action had not committed
 * (and now never will), else "you will receive an SMS", a promise the gate then keeps.
 */
function lateReply(gate: HopGate): HopResult {
  if (gate.fail()) return TIMED_OUT;
  gate.promiseSms();
  return PROCESSING;
}

/**
 * `work`'s result, or `late()` once `ms` have passed; work goes on, and a failure after that
 * goes to `failedLate`. One promise and one timer per hop, no Promise.race.
 */
function inTime<T>(work: Promise<T>, ms: number, late: () => T, failedLate: (err: unknown) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; resolve(late()); }, ms);
    work.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (err: unknown) => {
        clearTimeout(timer);
        if (timedOut) failedLate(err);
        else reject(err);
      },
    );
  });
}

// libphonenumber's full-metadata parse is the costliest step of a hop: parsePhoneFast pays it
// once per 4-digit prefix, and a subscriber sends the same phoneNumber on every hop (cached, bounded).
const phoneCache = new Map<string, PhoneResult>();
function cachedPhone(raw: string): PhoneResult {
  let r = phoneCache.get(raw);
  if (!r) {
    r = parsePhoneFast(raw);
    if (phoneCache.size >= 20_000) phoneCache.clear();
    phoneCache.set(raw, r);
  }
  return r;
}

function hopFailed(log: Logger, req: UssdRequest, channel: ChannelAdapter, err: unknown): void {
  log.error({ sessionId: req.sessionId, channel: channel.name, err: (err as Error)?.message ?? String(err) }, 'ussd hop failed');
}

/** A malformed %-escape names no channel (404), rather than throwing. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function ussdModule(): ServiceModule {
  // Per-hop metric series and masked phones, each worked out once rather than on every hop.
  const counters = new Map<string, () => void>();
  const timers = new Map<string, (ms: number) => void>();
  const masked = new WeakMap<Phone, string>();
  function hopCounter(app: AppContext, channel: string, outcome: string): () => void {
    const id = `${channel}\n${outcome}`;
    let c = counters.get(id);
    if (!c) counters.set(id, (c = app.metrics.counter('ussd_hops_total', { channel, outcome }, 'USSD requests answered, by outcome')));
    return c;
  }
  function hopTimer(app: AppContext, channel: string): (ms: number) => void {
    let t = timers.get(channel);
    if (!t) timers.set(channel, (t = app.metrics.histogram('ussd_hop_ms', { channel }, 'USSD request latency')));
    return t;
  }
  function maskedPhone(phone: Phone): string {
    let m = masked.get(phone);
    if (m === undefined) masked.set(phone, (m = maskPhone(phone.e164)));
    return m;
  }

  let engine: UssdEngine | undefined;
  let menuActions: string[] = [];
  let loadedMenus: CompiledMenu[] = [];
  let sessionRedis: Redis | undefined;
  let adapters: Map<string, ChannelAdapter>;
  let hopLog: Logger | undefined;
  const body = smallBody();

  async function handle(ctx: Context, app: AppContext, channel: ChannelAdapter): Promise<void> {
    const startedAt = Date.now();
    const log = app.logger;
    const read = await readSmallBody(ctx);
    let bad: { status: number; reason: string } | undefined;
    if (!read.ok && read.status !== 0) bad = read;
    else if (!read.ok) {
      // Compressed or unusual bodies: the general parser (same limits) handles them.
      try {
        await body(ctx, async () => undefined);
      } catch (err) {
        bad = { status: (err as { status?: number }).status ?? 400, reason: (err as Error).message };
      }
    }
    if (bad) {
      log.warn({ channel: channel.name, status: bad.status, reason: bad.reason }, 'ussd request rejected: unreadable or oversized body');
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = bad.status === 413 ? 'request body too large' : 'unreadable body';
      return;
    }
    const parsed = channel.parse(ctx);
    if (!parsed.ok) {
      log.warn({ channel: channel.name, reason: parsed.reason }, 'ussd request rejected');
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = parsed.reason;
      return;
    }
    const req = parsed.request;
    const phone = cachedPhone(req.phoneNumber);
    if (!phone.ok) {
      log.warn({ channel: channel.name, sessionId: req.sessionId, phone: maskPhone(req.phoneNumber), reason: phone.reason }, 'ussd request rejected: bad phone number');
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = `invalid phoneNumber: ${phone.reason}`;
      return;
    }

    const after = new AfterReply(log);
    const gate = new HopGate();
    let result: HopResult;
    const eng = engine!;
    try {
      // Whatever happens below (Redis slow or down, a bug), the subscriber gets a reply in time,
      // and what it says is what happens (HopGate).
      const work = eng.hop(channel, req, phone, after, startedAt, gate);
      result = await inTime(work, Math.max(0, eng.deadlineAt(startedAt) + 10 - Date.now()), () => lateReply(gate), (err) => hopFailed(log, req, channel, err));
    } catch (err) {
      hopFailed(log, req, channel, err);
      result = lateReply(gate);
    }
    // "Try again" given without the record being reached: a repeat must replay it, not buy.
    if (gate.current === 'failed' && (result.outcome === 'timeout' || result.outcome === 'unavailable')) eng.rememberFailure(req, phone, result.reply, gate);
    channel.render(ctx, result.reply);
    if (after.pending > 0) ctx.res.once('finish', () => after.flush());
    else after.flush();

    const ms = Date.now() - startedAt;
    hopCounter(app, channel.name, result.outcome)();
    hopTimer(app, channel.name)(ms);
    const line: Record<string, unknown> = {
      sessionId: req.sessionId, channel: channel.name, phone: maskedPhone(phone), screen: result.screen, ms, outcome: result.outcome,
    };
    if (result.action) {
      line.action = result.action;
      line.actionOutcome = result.actionOutcome;
    }
    hopLog!.info(line, 'ussd hop');
  }

  function serveChannel(ctx: Context, app: AppContext, name: string): Promise<void> | void {
    const channel = adapters.get(name);
    if (!channel) {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = 'unknown channel';
      return;
    }
    return handle(ctx, app, channel);
  }

  return {
    name: 'ussd',
    async init(app) {
      const c = app.config;
      const menus = loadMenuDir(c.MENUS_DIR, {
        defaultServiceCode: c.USSD_SERVICE_CODE,
        keys: { back: c.USSD_BACK_KEY, home: c.USSD_HOME_KEY, more: c.USSD_MORE_KEY },
        screenMaxChars: c.SCREEN_MAX_CHARS,
      });
      registerPlaceholders(app.actions);
      // The per-hop line carries only fields built here (ids, masked phone, screen, timing), never
      // input values, so it skips the path-based redaction that costs ~13 µs of a ~200 µs hop.
      // Every other line keeps the redaction.
      hopLog = app.logger.child({}, { redact: { paths: [], censor: '' } });
      loadedMenus = menus;
      menuActions = [...new Set(menus.flatMap((m) => [...m.screens.values()].map((s) => s.action).filter((a): a is string => !!a)))];
      // Sessions get their own connection: the store batches its writes per turn of the event
      // loop, so the scripts of many concurrent hops leave in one socket write.
      // Its scripts are not safe to run twice: a command cut off by a dropped connection fails
      // (the hop answers politely) instead of being re-sent after the reconnect.
      sessionRedis = createRedis(c.REDIS_URL, { autoResendUnfulfilledCommands: false, commandTimeout: c.REDIS_COMMAND_TIMEOUT_MS });
      sessionRedis.on('error', (err) => app.logger.debug({ err: err.message }, 'ussd session redis error'));
      if (app.redis.status === 'ready') await waitReady(sessionRedis, 3000).catch(() => undefined);
      engine = new UssdEngine(app, menus, sessionRedis, lateSmsSender(app));
      adapters = channelAdapters(c);
      app.logger.info({ menus: menus.map((m) => `${m.file} ${m.serviceCode} v${m.version}`) }, 'ussd menus loaded');
    },
    ready(app) {
      // Every action a menu names must be doable by the gateways configured for its roles.
      const problems = needsProblems(loadedMenus, (a, p) => app.actions.needs(a, p), app.gateways);
      if (problems.length) throw new MenuError(problems);
    },
    async stop() {
      await sessionRedis?.quit().catch(() => sessionRedis?.disconnect());
    },
    start(app) {
      // Modules register handlers in their init; by now every menu action should have one.
      const missing = menuActions.filter((a) => !app.actions.has(a));
      if (missing.length) app.logger.warn({ missing }, 'menu actions without a handler: those screens answer with their failure outcome');
    },
    front(app) {
      const at = adapters.get('africastalking')!;
      // The aggregator's callbacks skip the router: matching its ~60 routes (and their
      // middleware) costs more per hop than parsing the body. Everything else falls through.
      return (ctx, next) => {
        if (ctx.method !== 'POST') return next();
        const path = ctx.path;
        if (path === '/ussd' || path === '/ussd/') return handle(ctx, app, at);
        if (!path.startsWith('/ussd/')) return next();
        const name = path.endsWith('/') ? path.slice(6, -1) : path.slice(6);
        if (name.includes('/')) return next();
        return serveChannel(ctx, app, safeDecode(name));
      };
    },
    routes(router, app) {
      // Served by front() first; declared here too so other methods get 405 with Allow.
      router.post('/ussd', (ctx) => handle(ctx, app, adapters.get('africastalking')!));
      router.post('/ussd/:channel', (ctx) => serveChannel(ctx, app, String(ctx.params.channel)));
    },
  };
}
