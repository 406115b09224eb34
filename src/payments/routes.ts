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

export function paymentRoutes(router: Router, app: AppContext, payments: Payments, agents: AgentStore): void {
  const body = smallBody();
  const auth = requireApiToken(app.config);

  router.post('/callbacks/:gateway', async (ctx: Context) => {
    const started = performance.now();
    const gw = String(ctx.params.gateway);
    // Only the configured gateway's route is live; the other answers 404 like an unknown path.
    if (gw !== app.config.GATEWAY) {
      ctx.status = 404;
      ctx.body = { status: 'failed', message: 'not found' };
      return;
    }
    if (!(await readBody(ctx, body))) {
      ctx.body = { status: 'failed', message: 'unreadable body' };
      return;
    }
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    const update = app.gateway.parseCallback(ctx.headers, raw);
    if (!update) {
      app.metrics.inc('ipn_rejected_total', { gateway: gw }, 1, 'IPNs refused (bad signature or not an IPN)');
      app.logger.warn({ gateway: gw, ip: ctx.ip, bytes: raw.length }, 'IPN refused: signature invalid');
      ctx.status = 401;
      ctx.body = { status: 'failed', message: 'invalid signature' };
      return;
    }
    // Recorded durably before answering; acted on by a job (exactly once per ref + status).
    const rec = await payments.ipns.record(gw, update, raw);
    if (!rec.processed) await payments.jobs.add('ipn', { ipnId: rec.id }, `ipn-${rec.id}`);
    const ms = performance.now() - started;
    app.metrics.inc('ipn_received_total', { gateway: gw, duplicate: String(!rec.fresh) }, 1, 'IPNs accepted');
    app.metrics.observe('ipn_answer_ms', ms, { gateway: gw }, 'Time to record and answer an IPN');
    app.logger.info({ gateway: gw, ipn: rec.id, gatewayRef: update.gatewayRef, status: update.status, duplicate: !rec.fresh, ms: Math.round(ms) }, 'IPN recorded');
    ctx.status = 200;
    ctx.body = { status: 'success' };
  });

  router.get('/api/orders/:id', auth, async (ctx: Context) => {
    const id = String(ctx.params.id);
    const order = await payments.store.get(id);
    if (!order) {
      ctx.status = 404;
      ctx.body = { error: 'no such order' };
      return;
    }
    ctx.body = { order, history: await payments.store.history(id) };
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
