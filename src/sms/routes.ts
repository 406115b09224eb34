// HTTP routes of the SMS module. No business logic here: parse, call, map errors to statuses.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import busboy from 'busboy';
import type { Queue } from 'bullmq';
import type { AppContext, OtpService } from '../app-context.js';
import { requireApiToken } from '../http/auth.js';
import { smallBody } from '../http/body.js';
import { clientIpResolver } from '../http/client-ip.js';
import { BulkIntake, checkMessage } from './bulk-intake.js';
import type { BulkStore } from './bulk-store.js';
import { bulkStatus, invalidPage } from './bulk-status.js';
import { csvPhones } from './csv.js';
import { handleDlr } from './dlr.js';
import { bodyOr4xx, readBody } from './read-body.js';
import { BulkError, OtpError } from './errors.js';
import type { BatchJobData } from './queue.js';

/** JSON recipient lists up to ~250,000 numbers; bigger lists should be uploaded as CSV. */
const JSON_LIMIT = '8mb';
const UPLOAD_LIMIT_BYTES = 256 * 1024 * 1024;

function fail(ctx: Context, err: unknown): boolean {
  if (err instanceof OtpError) {
    ctx.status = err.status;
    if (err.retryAfterS !== undefined) ctx.set('Retry-After', String(err.retryAfterS));
    ctx.body = { error: err.code, message: err.message, ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}) };
    return true;
  }
  if (err instanceof BulkError) {
    ctx.status = err.status;
    ctx.body = { error: err.code, message: err.message };
    return true;
  }
  return false;
}

export function smsRoutes(router: Router, app: AppContext, deps: { otp: OtpService; store: BulkStore; queue: Queue<BatchJobData> }): void {
  const auth = requireApiToken(app.config);
  const { otp, store, queue } = deps;
  const clientIp = clientIpResolver(app.config.TRUSTED_PROXIES);

  router.post('/api/otp', auth, bodyOr4xx(smallBody()), async (ctx) => {
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

  router.post('/api/sms/bulk', auth, async (ctx) => {
    const intake = new BulkIntake(app, store, queue);
    try {
      let message: unknown;
      if (ctx.is('application/json')) {
        if (!(await readBody(ctx, bodyParser({ enableTypes: ['json'], jsonLimit: JSON_LIMIT })))) return;
        const b = (ctx.request.body ?? {}) as { message?: unknown; recipients?: unknown };
        message = b.message;
        checkMessage(message);
        if (!Array.isArray(b.recipients)) throw new BulkError('RECIPIENTS_REQUIRED', 'recipients must be an array of phone numbers');
        for (const r of b.recipients) await intake.add(typeof r === 'string' || typeof r === 'number' ? String(r) : '');
      } else if (ctx.is('multipart/form-data')) {
        message = await readMultipart(ctx, intake);
      } else if (ctx.is('text/csv', 'text/plain', 'application/csv')) {
        message = ctx.query.message ?? ctx.get('x-sms-message');
        checkMessage(message);
        for await (const phone of csvPhones(ctx.req)) await intake.add(phone);
        // readline ends quietly when the client goes away: a cut-off upload must not be sent.
        if (!ctx.req.complete) throw new BulkError('UPLOAD_INCOMPLETE', 'the upload ended before the whole body arrived');
      } else {
        throw new BulkError('UNSUPPORTED_TYPE', 'send JSON { message, recipients }, a text/csv body (?message=…) or multipart/form-data (message, file)', 415);
      }
      const summary = await intake.finish(String(message ?? ''));
      ctx.status = 202;
      ctx.body = { ...summary, statusUrl: `/api/sms/bulk/${summary.id}` };
    } catch (err) {
      await intake.abort();
      if (fail(ctx, err)) return;
      // The client went away mid-upload (socket reset, parse error): nothing to answer, nothing sent.
      if (!ctx.req.complete) {
        app.logger.warn({ bulkId: intake.id, err: (err as Error).message }, 'bulk upload cut off; discarded');
        fail(ctx, new BulkError('UPLOAD_INCOMPLETE', 'the upload ended before the whole body arrived'));
        return;
      }
      throw err;
    }
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
    if (!(await app.redis.exists(store.meta(ctx.params.id ?? '')))) {
      ctx.status = 404;
      ctx.body = { error: 'NOT_FOUND', message: 'no such bulk job' };
      return;
    }
    const offset = Math.max(0, Number(ctx.query.offset ?? 0) || 0);
    const limit = Math.min(10_000, Math.max(1, Number(ctx.query.limit ?? 1000) || 1000));
    ctx.body = await invalidPage(app, store, ctx.params.id ?? '', offset, limit);
  });

  router.post('/callbacks/sms-dlr', bodyOr4xx(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb' })), async (ctx) => {
    const r = await handleDlr(app, store, ctx.headers, ctx.request.rawBody ?? '', ctx.request.body);
    ctx.status = r.status;
    ctx.body = r.body;
  });
}

/** busboy: `message` field and one file part; fields may come before or after the file. */
async function readMultipart(ctx: Context, intake: BulkIntake): Promise<unknown> {
  let message: unknown;
  let work: Promise<void> | undefined;
  const bb = busboy({ headers: ctx.req.headers, limits: { files: 1, fields: 10, fieldSize: 16 * 1024, fileSize: UPLOAD_LIMIT_BYTES } });
  let truncated = false;
  bb.on('field', (name, value) => { if (name === 'message') message = value; });
  bb.on('file', (_name, stream) => {
    stream.on('limit', () => { truncated = true; });
    work = (async () => {
      try {
        for await (const phone of csvPhones(stream)) await intake.add(phone);
      } catch (err) {
        stream.resume(); // let busboy reach the end of the request
        throw err;
      }
    })();
    work.catch(() => undefined); // awaited below
  });
  await new Promise<void>((resolve, reject) => {
    bb.on('close', resolve);
    bb.on('error', reject);
    ctx.req.pipe(bb);
  });
  if (!work) throw new BulkError('FILE_REQUIRED', 'multipart upload needs a file part with the numbers');
  await work;
  if (truncated) throw new BulkError('FILE_TOO_LARGE', `file larger than ${UPLOAD_LIMIT_BYTES} bytes`, 413);
  return message;
}
