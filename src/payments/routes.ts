// HTTP: gateway IPNs (POST /callbacks/:gateway) and the operators' views of orders, IPNs, agents.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AppContext } from '../app-context.js';
import { requireApiToken } from '../http/auth.js';
import { smallBody } from '../http/body.js';
import { maskPhone } from '../log.js';
import { AgentStore } from '../agents/store.js';
import { readBody } from '../sms/read-body.js';
import type { Payments } from './flows.js';
import { parsePhone } from '../lib/phone.js';
import { TRANSITIONS, type OrderState } from './types.js';

function badRequest(ctx: Context, error: string): void {
  ctx.status = 400;
  ctx.body = { error };
}

function conflict(ctx: Context, error: string): void {
  ctx.status = error === 'no such order' ? 404 : 409;
  ctx.body = { error };
}

export function paymentRoutes(
  router: Router,
  app: Pick<AppContext, 'config' | 'gateways' | 'logger' | 'metrics'>,
  payments: Payments,
  agents: AgentStore,
): void {
  const body = smallBody();
  const auth = requireApiToken(app.config);

  router.post('/callbacks/:gateway', async (ctx: Context) => {
    const started = performance.now();
    const gw = String(ctx.params.gateway);
    // Only the routes of gateways some role uses are live; others answer 404 like an unknown path.
    const gateway = app.gateways.byName(gw);
    if (!gateway) {
      ctx.status = 404;
      ctx.body = { status: 'failed', message: 'not found' };
      return;
    }
    if (!(await readBody(ctx, body))) {
      ctx.body = { status: 'failed', message: 'unreadable body' };
      return;
    }
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    const parsed = gateway.parseCallback(ctx.headers, raw);
    if (!parsed.ok) {
      const bad = parsed.why === 'bad_signature';
      app.metrics.inc('ipn_rejected_total', { gateway: gw, why: parsed.why }, 1, 'IPNs refused (bad signature or not an IPN)');
      app.logger.warn(
        { gateway: gw, ip: ctx.ip, bytes: raw.length, why: parsed.why },
        bad ? 'IPN refused: signature invalid or missing' : 'IPN refused: not a notification we can read',
      );
      ctx.status = bad ? 401 : 400;
      ctx.body = { status: 'failed', message: bad ? 'invalid signature' : 'unreadable notification' };
      return;
    }
    const update = parsed.update;
    // Recorded durably before answering; acted on by a job that asks the gateway's status
    // endpoint (the notification itself never moves money), once per ref + status.
    const rec = await payments.ipns.record(gw, update, raw, parsed.event ?? '');
    if (!rec.processed) await payments.jobs.add('ipn', { ipnId: rec.id }, `ipn-${rec.id}-r${rec.round}`);
    const ms = performance.now() - started;
    app.metrics.inc('ipn_received_total', { gateway: gw, duplicate: String(!rec.fresh) }, 1, 'IPNs accepted');
    app.metrics.observe('ipn_answer_seconds', ms, { gateway: gw }, 'Time to record and answer an IPN');
    app.logger.info(
      {
        gateway: gw,
        ipn: rec.id,
        gatewayRef: update.gatewayRef,
        status: update.status,
        event: parsed.event,
        signed: parsed.signed,
        duplicate: !rec.fresh,
        ms: Math.round(ms),
      },
      'IPN recorded',
    );
    ctx.status = 200;
    ctx.body = { status: 'success' };
  });

  router.get('/api/orders', auth, async (ctx: Context) => {
    const q = ctx.query;
    const one = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
    const state = one(q.state);
    const phoneRaw = one(q.phone);
    const limit = Number(one(q.limit) ?? 100);
    if (state !== undefined && !(state in TRANSITIONS)) return badRequest(ctx, `state must be one of ${Object.keys(TRANSITIONS).join(', ')}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return badRequest(ctx, 'limit must be 1..1000');
    let phone: string | undefined;
    if (phoneRaw !== undefined) {
      const p = parsePhone(phoneRaw);
      if (!p.ok) return badRequest(ctx, `phone: ${p.reason}`);
      phone = p.e164;
    }
    // from / to: days (YYYY-MM-DD) of creation, in the service's day (FUNNEL_UTC_OFFSET_MIN). The
    // all-orders and phone indexes are scored by creation, a state's by when it was entered: only
    // the former may be cut at `to` in Redis; the rest is filtered here.
    const offsetMs = app.config.FUNNEL_UTC_OFFSET_MIN * 60_000;
    const dayStart = (v: string | undefined, what: string): number | undefined | null => {
      if (v === undefined || v === '') return undefined;
      const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
      if (!Number.isFinite(t)) {
        badRequest(ctx, `${what} must be a date YYYY-MM-DD`);
        return null;
      }
      return t - offsetMs;
    };
    const from = dayStart(one(q.from), 'from');
    const toStart = dayStart(one(q.to), 'to');
    if (from === null || toStart === null) return;
    const until = toStart === undefined ? undefined : toStart + 86_400_000;
    const ranged = from !== undefined || until !== undefined;
    const ids = await payments.store.list({
      ...(state ? { state: state as OrderState } : {}),
      ...(phone && !state ? { phone } : {}),
      ...(until !== undefined && !state ? { before: until } : {}),
      limit: (phone && state) || ranged ? 1000 : limit,
    });
    const orders = [];
    for (const id of ids) {
      const o = await payments.store.get(id);
      if (!o || (phone && o.phone !== phone) || (state && o.state !== state)) continue;
      const created = Date.parse(o.createdAt);
      if ((from !== undefined && created < from) || (until !== undefined && created >= until)) continue;
      orders.push({
        id: o.id,
        state: o.state,
        kind: o.kind,
        pay: o.pay,
        amount: o.amountMinor / 100,
        amountMinor: o.amountMinor,
        phone: o.phone,
        createdAt: o.createdAt,
        updatedAt: o.updatedAt,
        ...(o.attention ? { reason: o.attention } : o.reason ? { reason: o.reason } : {}),
      });
      if (orders.length >= limit) break;
    }
    ctx.body = { orders };
  });

  router.post('/api/orders/:id/retry', auth, async (ctx: Context) => {
    if (!(await readBody(ctx, body))) return;
    const r = await payments.settler.retry(String(ctx.params.id), 'operator (API)');
    if (!r.ok) return conflict(ctx, r.error);
    app.logger.info({ orderId: ctx.params.id, state: r.state }, 'order retried by an operator');
    ctx.body = { order: await payments.store.get(String(ctx.params.id)) };
  });

  router.post('/api/orders/:id/close', auth, async (ctx: Context) => {
    if (!(await readBody(ctx, body))) return;
    const reason = (ctx.request as { body?: { reason?: unknown } }).body?.reason;
    if (typeof reason !== 'string' || reason.trim().length < 3 || reason.length > 500) return badRequest(ctx, 'reason (3 to 500 characters) is required');
    const r = await payments.settler.close(String(ctx.params.id), reason.trim(), 'operator (API)');
    if (!r.ok) return conflict(ctx, r.error);
    app.logger.info({ orderId: ctx.params.id }, 'order closed by an operator');
    ctx.body = { order: await payments.store.get(String(ctx.params.id)) };
  });

  router.get('/api/orders/:id', auth, async (ctx: Context) => {
    const id = String(ctx.params.id);
    const order = await payments.store.get(id);
    if (!order) {
      ctx.status = 404;
      ctx.body = { error: 'no such order' };
      return;
    }
    const waiting = await payments.gatewayWait.ofOrder(id);
    ctx.body = { order, history: await payments.store.history(id), ...(waiting.length ? { waitingForGateway: waiting } : {}) };
  });

  router.get('/api/ipns/unknown', auth, async (ctx: Context) => {
    ctx.body = { ipns: await payments.ipns.unknown() };
  });

  router.post('/api/agents', auth, async (ctx: Context) => {
    if (!(await readBody(ctx, body))) return;
    const phone = (ctx.request as { body?: { phone?: unknown } }).body?.phone;
    if (typeof phone !== 'string' || !AgentStore.normalize(phone)) {
      ctx.status = 400;
      ctx.body = { error: 'phone must be a Kenyan mobile number' };
      return;
    }
    const { agent, created } = await agents.add(phone);
    app.logger.info({ phone: maskPhone(agent.phone), created }, 'agent registered');
    ctx.status = created ? 201 : 200;
    ctx.body = { agent };
  });

  router.get('/api/agents', auth, async (ctx: Context) => {
    ctx.body = { agents: await agents.list() };
  });

  router.get('/api/agents/:phone', auth, async (ctx: Context) => {
    const agent = await agents.get(String(ctx.params.phone));
    if (!agent) {
      ctx.status = 404;
      ctx.body = { error: 'no such agent' };
      return;
    }
    ctx.body = { agent };
  });
}
