// One aggregator request, from the wire to the wire: read and parse it with the channel's
// adapter (a malformed one gets a 400 and one log line), normalise the phone, run the hop (or
// close the session on an end signal) within the deadline, render the channel's exact reply,
// then count it (metrics, funnel) and log one line.
import type { Context } from 'koa';
import type { AppContext } from '../app-context.js';
import { parseAtEvent, type AtEndStatus } from '../channels/at-events.js';
import type { ChannelAdapter, UssdReply, UssdRequest } from '../channels/types.js';
import { readSmallBody, smallBody } from '../http/body.js';
import { parseSubscriberPhone, type Phone, type PhoneResult } from '../lib/phone.js';
import { maskPhone, type Logger } from '../log.js';
import { MSG } from '../menus/messages.js';
import { AfterReply } from './after-reply.js';
import type { EndResult, HopResult, HopTrace, UssdEngine } from './engine.js';
import type { Funnel, FunnelEvent } from './funnel.js';
import { HopGate } from './hop-gate.js';

const UNAVAILABLE: UssdReply = { continues: false, text: MSG.unavailable.en };
const TIMED_OUT: HopResult = { reply: UNAVAILABLE, screen: '-', outcome: 'timeout' };
const PROCESSING: HopResult = { reply: { continues: false, text: MSG.processing.en }, screen: '-', outcome: 'timeout_committed' };
const FAILED: HopResult = { ...TIMED_OUT, outcome: 'error' };
const FAILED_COMMITTED: HopResult = { ...PROCESSING, outcome: 'error_committed' };
const OTHER_COUNTRY: UssdReply = { continues: false, text: `${MSG.country.en}\n${MSG.country.sw}` };
const ACK: UssdReply = { continues: false, text: '' };

/**
 * The reply of a hop that missed its deadline (or failed): "try again" if its action had not
 * committed (and now never will), else "you will receive an SMS", a promise the gate then keeps.
 */
function lateReply(gate: HopGate, failed: boolean): HopResult {
  if (gate.fail()) return failed ? FAILED : TIMED_OUT;
  gate.promiseSms();
  return failed ? FAILED_COMMITTED : PROCESSING;
}

/**
 * `work`'s result, or `late()` once `ms` have passed; work goes on, and a failure after that
 * goes to `failedLate`. One promise and one timer per hop, no Promise.race.
 */
function inTime<T>(work: Promise<T>, ms: number, late: () => T, failedLate: (err: unknown) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      resolve(late());
    }, ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (timedOut) failedLate(err);
        else reject(err);
      },
    );
  });
}

/** Africa's Talking's end statuses, as the funnel counts them ("completed" was counted when we sent END). */
function atHow(status: AtEndStatus, errorMessage: string | undefined): FunnelEvent {
  if (status === 'success') return 'completed';
  if (status === 'incomplete') return 'dropped';
  return errorMessage && /time.?out|timed|too long|late/i.test(errorMessage) ? 'timedOut' : 'errors';
}

/** An end signal counts at the screen the session was on, except a drop after our own END finished it. */
function countsAsEnd(r: EndResult, how: FunnelEvent): r is EndResult & { code: string } {
  return r.kind === 'closed' && !!r.code && how !== 'completed' && !(how === 'dropped' && r.completed);
}

/** What UssdServer uses of the application context (and nothing else of it). */
type UssdServerDeps = Pick<AppContext, 'config' | 'logger' | 'metrics'>;

export class UssdServer {
  // Per-hop metric series and masked phones, each worked out once rather than on every hop.
  private readonly counters = new Map<string, () => void>();
  private readonly timers = new Map<string, (ms: number) => void>();
  private readonly masked = new WeakMap<Phone, string>();
  // libphonenumber's full-metadata parse is the costliest step of a hop: Kenyan forms pay it once
  // per 4-digit prefix, and a subscriber sends the same phone on every hop (cached, bounded).
  private readonly phones = new Map<string, PhoneResult>();
  private readonly countries: Set<string>;
  private readonly body = smallBody();

  constructor(
    private readonly app: UssdServerDeps,
    private readonly engine: UssdEngine,
    private readonly funnel: Funnel,
    /** The per-hop logger (see module.ts: no path redaction, its fields are ours). */
    private readonly hopLog: Logger,
  ) {
    this.countries = new Set(app.config.PHONE_COUNTRIES);
  }

  async handle(ctx: Context, channel: ChannelAdapter): Promise<void> {
    const startedAt = Date.now();
    if (channel.method === 'POST' && !(await this.readBody(ctx, channel.name))) return;
    const parsed = channel.parse(ctx);
    if (!parsed.ok) return this.reject(ctx, channel.name, parsed.reason);
    const req = parsed.request;
    const phone = this.phone(req.phone);
    if (!phone.ok) {
      this.app.logger.warn(
        { channel: channel.name, sessionId: req.sessionId, phone: maskPhone(req.phone), reason: phone.reason },
        'ussd request rejected: bad phone number',
      );
      return this.badRequest(ctx, `invalid ${channel.phoneField}: ${phone.reason}`);
    }
    if (phone.country && !this.countries.has(phone.country)) {
      // A real number from a country we do not serve: the handset shows why (an HTTP error it could not).
      channel.render(ctx, OTHER_COUNTRY, req);
      this.done(channel, req, phone, startedAt, { reply: OTHER_COUNTRY, screen: '-', outcome: 'country' }, {});
      return;
    }
    if (req.kind === 'end' || req.kind === 'timeout') return this.ended(ctx, channel, req, phone);

    const after = new AfterReply(this.app.logger);
    const gate = new HopGate();
    const trace: HopTrace = {};
    const eng = this.engine;
    let result: HopResult;
    try {
      // Whatever happens below (Redis slow or down, a bug), the subscriber gets a reply in time,
      // and what it says is what happens (HopGate).
      const work = eng.hop(channel, req, phone, after, startedAt, gate, trace);
      result = await inTime(
        work,
        Math.max(0, eng.deadlineAt(startedAt) + 10 - Date.now()),
        () => lateReply(gate, false),
        (err) => this.hopFailed(req, channel, err),
      );
    } catch (err) {
      this.hopFailed(req, channel, err);
      result = lateReply(gate, true);
    }
    // "Try again" given without the record being reached: a repeat must replay it, not buy.
    if (gate.current === 'failed' && (result.outcome === 'timeout' || result.outcome === 'error')) eng.rememberFailure(phone, result.reply, gate);
    channel.render(ctx, result.reply, req);
    if (after.pending > 0) ctx.res.once('finish', () => after.flush());
    else after.flush();
    this.countHop(trace, result);
    this.done(channel, req, phone, startedAt, result, trace);
  }

  /** Africa's Talking's end-of-session notification: the session is closed and its end counted. */
  async atEvent(ctx: Context, at: ChannelAdapter): Promise<void> {
    if (!(await this.readBody(ctx, 'africastalking-events'))) return;
    const parsed = parseAtEvent(ctx);
    if (!parsed.ok) return this.reject(ctx, 'africastalking-events', parsed.reason);
    const ev = parsed.event;
    const phone = this.phone(ev.phone);
    if (!phone.ok) {
      this.app.logger.warn(
        { channel: 'africastalking-events', sessionId: ev.sessionId, reason: phone.reason },
        'ussd end notification rejected: bad phone number',
      );
      return this.badRequest(ctx, `invalid phoneNumber: ${phone.reason}`);
    }
    const how = atHow(ev.status, ev.errorMessage);
    const r = await this.close(at, ev.sessionId, phone, how);
    this.app.logger.info(
      {
        channel: 'africastalking',
        sessionId: ev.sessionId,
        phone: this.maskedPhone(phone),
        status: ev.status,
        how,
        hops: ev.hopsCount,
        durationMs: ev.durationMs,
        errorMessage: ev.errorMessage,
        found: r.kind,
        screen: r.screen,
      },
      'ussd session end notified',
    );
    ctx.status = 200;
    ctx.type = 'text/plain';
    ctx.body = '';
  }

  /** An end or timeout request of a channel: close, count, acknowledge in the channel's format. */
  private async ended(ctx: Context, channel: ChannelAdapter, req: UssdRequest, phone: Phone): Promise<void> {
    const how: FunnelEvent = req.kind === 'timeout' ? 'timedOut' : 'dropped';
    const r = await this.close(channel, req.sessionId, phone, how);
    this.app.logger.info(
      { channel: channel.name, sessionId: req.sessionId, phone: this.maskedPhone(phone), kind: req.kind, how, found: r.kind, screen: r.screen },
      'ussd session ended by the aggregator',
    );
    channel.render(ctx, ACK, req);
  }

  private async close(channel: Pick<ChannelAdapter, 'name'>, sessionId: string, phone: Phone, how: FunnelEvent): Promise<EndResult> {
    let r: EndResult;
    try {
      const deadline = Math.max(50, this.app.config.USSD_DEADLINE_MS - 100);
      r = await inTime(
        this.engine.close(channel, sessionId, phone, how),
        deadline,
        (): EndResult => ({ kind: 'unknown' }),
        (err) => this.closeFailed(channel.name, sessionId, err),
      );
    } catch (err) {
      this.closeFailed(channel.name, sessionId, err);
      r = { kind: 'unknown' };
    }
    if (countsAsEnd(r, how)) this.funnel.count(r.code, r.screen ?? '-', how);
    this.app.metrics.inc(
      'ussd_session_ends_total',
      { channel: channel.name, how, found: r.kind },
      1,
      'Sessions ended by an aggregator signal, by how and by what we held',
    );
    return r;
  }

  private closeFailed(channel: string, sessionId: string, err: unknown): void {
    this.app.logger.error({ channel, sessionId, err: (err as Error)?.message ?? String(err) }, 'ussd session could not be closed');
  }

  /** What one hop means for the funnel (docs/channels.md, "Funnel"). */
  private countHop(trace: HopTrace, result: HopResult): void {
    const code = trace.code;
    if (code === undefined) return;
    switch (result.outcome) {
      case 'con':
      case 'end':
        // The resume offer is no screen of the menu: it is not counted.
        if (result.screen !== trace.from && result.screen !== 'resume') this.funnel.count(code, result.screen, 'entered');
        if (result.outcome === 'end') this.funnel.count(code, result.screen, 'completed');
        return;
      case 'timeout':
      case 'timeout_committed':
        this.funnel.count(code, trace.from || '-', 'timedOut');
        return;
      case 'error':
      case 'error_committed':
      case 'lock_lost':
        this.funnel.count(code, trace.from || '-', 'errors');
    }
  }

  private done(channel: ChannelAdapter, req: UssdRequest, phone: Phone, startedAt: number, result: HopResult, trace: HopTrace): void {
    const ms = Date.now() - startedAt;
    this.hopCounter(channel.name, result.outcome)();
    this.hopTimer(channel.name)(ms);
    const line: Record<string, unknown> = {
      sessionId: req.sessionId,
      channel: channel.name,
      phone: this.maskedPhone(phone),
      screen: result.screen,
      ms,
      outcome: result.outcome,
    };
    if (trace.code !== undefined && result.screen === '-' && trace.from) line.from = trace.from;
    if (result.action) {
      line.action = result.action;
      line.actionOutcome = result.actionOutcome;
    }
    this.hopLog.info(line, 'ussd hop');
  }

  private phone(raw: string): PhoneResult {
    let r = this.phones.get(raw);
    if (!r) {
      r = parseSubscriberPhone(raw, this.app.config.PHONE_COUNTRIES);
      if (this.phones.size >= 20_000) this.phones.clear();
      this.phones.set(raw, r);
    }
    return r;
  }

  /** Reads a POST body (the strict reader, else the general parser); false when it answered 400. */
  private async readBody(ctx: Context, channel: string): Promise<boolean> {
    const read = await readSmallBody(ctx);
    let bad: { status: number; reason: string } | undefined;
    if (!read.ok && read.status !== 0) bad = read;
    else if (!read.ok) {
      // Compressed or unusual bodies: the general parser (same limits) handles them.
      try {
        await this.body(ctx, async () => undefined);
      } catch (err) {
        bad = { status: (err as { status?: number }).status ?? 400, reason: (err as Error).message };
      }
    }
    if (!bad) return true;
    this.app.logger.warn({ channel, status: bad.status, reason: bad.reason }, 'ussd request rejected: unreadable or oversized body');
    this.badRequest(ctx, bad.status === 413 ? 'request body too large' : 'unreadable body');
    return false;
  }

  private reject(ctx: Context, channel: string, reason: string): void {
    this.app.logger.warn({ channel, reason }, 'ussd request rejected');
    this.badRequest(ctx, reason);
  }

  private badRequest(ctx: Context, reason: string): void {
    ctx.status = 400;
    ctx.type = 'text/plain';
    ctx.body = reason;
  }

  private hopFailed(req: UssdRequest, channel: ChannelAdapter, err: unknown): void {
    this.app.logger.error({ sessionId: req.sessionId, channel: channel.name, err: (err as Error)?.message ?? String(err) }, 'ussd hop failed');
  }

  private hopCounter(channel: string, outcome: string): () => void {
    const id = `${channel}\n${outcome}`;
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = this.app.metrics.counter('ussd_hops_total', { channel, outcome }, 'USSD requests answered, by outcome')));
    return c;
  }

  private hopTimer(channel: string): (ms: number) => void {
    let t = this.timers.get(channel);
    if (!t) this.timers.set(channel, (t = this.app.metrics.histogram('ussd_hop_seconds', { channel }, 'USSD request latency')));
    return t;
  }

  private maskedPhone(phone: Phone): string {
    let m = this.masked.get(phone);
    if (m === undefined) this.masked.set(phone, (m = maskPhone(phone.e164)));
    return m;
  }
}
