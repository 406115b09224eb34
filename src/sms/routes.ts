// HTTP routes of the SMS module. No business logic here: parse, call, map errors to statuses.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Queue } from 'bullmq';
import type { AppContext, OtpService } from '../app-context.js';
import { requireApiToken } from '../http/auth.js';
import { smallBody } from '../http/body.js';
import { clientIpResolver } from '../http/client-ip.js';
import type { BulkGuard } from './bulk-guard.js';
import { bulkPost } from './bulk-route.js';
import type { BulkStore } from './bulk-store.js';
import { BULK_ID, bulkStatus, invalidPage } from './bulk-status.js';
import { handleDlr } from './dlr.js';
import { bodyOr4xx } from './read-body.js';
import { BulkError, OtpError } from './errors.js';
import type { BatchJobData } from './queue.js';

function fail(ctx: Context, err: unknown): boolean {
  if (err instanceof OtpError) {
    ctx.status = err.status;
    if (err.retryAfterS !== undefined) ctx.set('Retry-After', String(err.retryAfterS));
    ctx.body = { error: err.code, message: err.message, ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}) };
    return true;
  }
  if (err instanceof BulkError) {
    ctx.status = err.status;
    ctx.body = { error: err.code, message: err.message, ...err.details };
    return true;
  }
  return false;
}

export function smsRoutes(
  router: Router,
  app: Pick<AppContext, 'config' | 'gateways' | 'logger' | 'redis'>,
  deps: { otp: OtpService; store: BulkStore; queue: Queue<BatchJobData>; guard: BulkGuard },
): void {
  const auth = requireApiToken(app.config);
  const { otp, store, queue, guard } = deps;
  const clientIp = clientIpResolver(app.config.TRUSTED_PROXIES);

  // What the SMS role's gateway cannot do is refused up front, never accepted and then lost.
  const smsGw = app.gateways.sms;
  const cannot = (what: 'sms' | 'bulkSms') => async (ctx: Context, next: Next) => {
    if (smsGw.capabilities[what]) return next();
    ctx.status = 501;
    ctx.body = { error: 'NOT_SUPPORTED', message: `SMS_GATEWAY=${smsGw.name} cannot send ${what === 'sms' ? 'SMS' : 'bulk SMS'}` };
  };

  router.post('/api/otp', auth, cannot('sms'), bodyOr4xx(smallBody()), async (ctx) => {
    const b = (ctx.request.body ?? {}) as { phone?: unknown; purpose?: unknown };
    // Quotas count against the caller: the connecting address, or what our own proxies say it
    // was (TRUSTED_PROXIES). Never the body: a client could write any address there.
    const ip = clientIp.of(ctx);
    try {
      ctx.body = await otp.send(String(b.phone ?? ''), String(b.purpose ?? ''), { ip });
      ctx.status = 202;
    } catch (err) {
      if (!fail(ctx, err)) throw err;
    }
  });

  router.post('/api/otp/verify', auth, bodyOr4xx(smallBody()), async (ctx) => {
    const b = (ctx.request.body ?? {}) as { phone?: unknown; purpose?: unknown; code?: unknown };
    if (typeof b.code !== 'string' || !/^\d{4,8}$/.test(b.code.trim())) {
      ctx.status = 400;
      ctx.body = { valid: false, reason: 'bad_code_format', message: 'code must be 4-8 digits' };
      return;
    }
    try {
      const r = await otp.verify(String(b.phone ?? ''), String(b.purpose ?? ''), b.code);
      if (r.valid) {
        ctx.body = { valid: true };
        return;
      }
      // 410: nothing to verify against; 429: locked after too many tries; 422: wrong code.
      ctx.status = r.reason === 'expired' ? 410 : r.reason === 'too_many_tries' ? 429 : 422;
      ctx.body = r;
    } catch (err) {
      if (!fail(ctx, err)) throw err;
    }
  });

  router.post('/api/sms/bulk', auth, cannot('bulkSms'), bulkPost(app, { store, queue, guard, fail }));

  // The most recent campaigns with their progress (the console's campaign list), newest first.
  router.get('/api/sms/bulk', auth, async (ctx) => {
    const limit = Math.min(100, Math.max(1, Number(ctx.query.limit ?? 20) || 20));
    const campaigns = [];
    for (const id of await store.recent(limit)) {
      const s = await bulkStatus(app, store, id);
      if (s) campaigns.push({ ...s, batches: undefined, invalidSample: undefined });
    }
    ctx.body = { campaigns };
  });

  router.get('/api/sms/bulk/:id', auth, async (ctx) => {
    const s = await bulkStatus(app, store, ctx.params.id ?? '');
    if (!s) {
      ctx.status = 404;
      ctx.body = { error: 'NOT_FOUND', message: 'no such bulk job' };
      return;
    }
    ctx.body = s;
  });

  router.get('/api/sms/bulk/:id/invalid', auth, async (ctx) => {
    const id = ctx.params.id ?? '';
    // Only a well-formed id names a job: anything else could name another of its keys.
    if (!BULK_ID.test(id) || !(await app.redis.exists(store.meta(id)))) {
      app.logger.info({ id: id.slice(0, 40) }, 'bulk invalid list: no such job');
      ctx.status = 404;
      ctx.body = { error: 'NOT_FOUND', message: 'no such bulk job (ids look like b followed by 16 hex digits)' };
      return;
    }
    const offset = Math.max(0, Number(ctx.query.offset ?? 0) || 0);
    const limit = Math.min(10_000, Math.max(1, Number(ctx.query.limit ?? 1000) || 1000));
    ctx.body = await invalidPage(app, store, id, offset, limit);
  });

  router.post('/callbacks/sms-dlr', bodyOr4xx(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb' })), async (ctx) => {
    const r = await handleDlr(app, store, ctx.headers, ctx.request.rawBody ?? '', ctx.request.body);
    ctx.status = r.status;
    ctx.body = r.body;
  });
}
