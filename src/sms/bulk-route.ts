// POST /api/sms/bulk: JSON, a streamed CSV body or a multipart upload → one campaign.
// Order of events: Idempotency-Key (a key seen before answers with its campaign, unread body
// and all) → size and encoding checks → the list, streamed into BulkIntake → the duplicate
// guard and the key's commit → the batches are queued. Any refusal before the last step leaves
// nothing behind and sends nothing.
import { pipeline } from 'node:stream';
import type { Context } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Queue } from 'bullmq';
import type { AppContext } from '../app-context.js';
import { BulkIntake, checkMessage } from './bulk-intake.js';
import { checkColumns, templateOf } from './template.js';
import { BulkGuard, IDEMPOTENCY_KEY } from './bulk-guard.js';
import type { BulkStore } from './bulk-store.js';
import { bulkStatus } from './bulk-status.js';
import { csvRows } from './csv.js';
import { BulkError } from './errors.js';
import { readMultipart } from './multipart.js';
import type { BatchJobData } from './queue.js';
import { readBody } from './read-body.js';
import { charsetOf, checkDeclaredSize, decodeToUtf8, drain, headerMessage, uploadBody } from './upload.js';

/** JSON recipient lists up to ~250,000 numbers; bigger lists should be uploaded as CSV. */
const JSON_LIMIT_BYTES = 8 * 1024 * 1024;

/** Another request owns the Idempotency-Key: its campaign is the answer. */
class ReplayOf {
  constructor(readonly id: string) {}
}

const truthy = (v: unknown) => v === true || v === 'true' || v === '1';

/** Campaigns may be scheduled this far ahead at most (batches wait as delayed jobs). */
const MAX_SCHEDULE_MS = 30 * 86_400_000;

/** `sendAt` (ISO 8601 with a zone, in the future, within 30 days), or undefined for now. */
export function parseSendAt(v: unknown): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new BulkError('BAD_SEND_AT', 'sendAt must be an ISO 8601 time with its zone, e.g. 2026-12-24T09:00:00+03:00');
  const ahead = d.getTime() - Date.now();
  if (ahead < -60_000) throw new BulkError('BAD_SEND_AT', 'sendAt is in the past');
  if (ahead > MAX_SCHEDULE_MS) throw new BulkError('BAD_SEND_AT', 'sendAt is more than 30 days ahead');
  return ahead > 0 ? d : undefined;
}

export function bulkPost(
  app: Pick<AppContext, 'config' | 'logger' | 'redis'>,
  deps: { store: BulkStore; queue: Queue<BatchJobData>; guard: BulkGuard; fail(ctx: Context, err: unknown): boolean },
) {
  const { store, queue, guard, fail } = deps;
  const max = () => app.config.BULK_MAX_BYTES;

  /** 200 with the campaign's status, the request body left unread. */
  async function replay(ctx: Context, id: string): Promise<boolean> {
    const s = await bulkStatus(app, store, id);
    if (!s) return false;
    if (!ctx.req.complete) drain(ctx.req, max(), 0);
    ctx.status = 200;
    ctx.set('Idempotent-Replayed', 'true');
    ctx.body = { ...s, statusUrl: `/api/sms/bulk/${id}` };
    return true;
  }

  return async (ctx: Context): Promise<void> => {
    const key = ctx.get('idempotency-key');
    if (key !== '' && !IDEMPOTENCY_KEY.test(key)) {
      fail(ctx, new BulkError('BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-255 printable ASCII characters'));
      return;
    }
    // A dry run (?dryRun=true, a JSON field, a form field before the file) reads the list like a
    // real upload and writes nothing: no campaign, no duplicate record, no jobs; a key it
    // claimed is given back.
    const intake = new BulkIntake(app, store, queue, { dryRun: truthy(ctx.query.dryRun) });
    if (key) {
      let claim = await guard.claim(key, intake.id);
      if (claim.kind === 'done') {
        if (await replay(ctx, claim.id)) return;
        await guard.forget(key, claim.id); // its campaign has expired: the key is free again
        claim = await guard.claim(key, intake.id);
      }
      if (claim.kind !== 'claimed') {
        if (!ctx.req.complete) drain(ctx.req, max(), 0);
        ctx.set('Retry-After', '5');
        fail(ctx, new BulkError('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still being read; retry shortly', 409, { id: claim.id }));
        return;
      }
    }
    const unhold = key ? guard.hold(key, intake.id) : () => undefined;
    let body: ReturnType<typeof uploadBody> | undefined;
    let recorded: string | undefined; // the content fingerprint this request may have recorded
    try {
      checkDeclaredSize(ctx, max());
      let message: unknown;
      let confirm = false;
      let sendAt: Date | undefined;
      let dry = truthy(ctx.query.dryRun);
      if (ctx.is('application/json')) {
        if (!(await readBody(ctx, bodyParser({ enableTypes: ['json'], jsonLimit: Math.min(JSON_LIMIT_BYTES, max()) })))) {
          app.logger.warn({ bulkId: intake.id, status: ctx.status }, 'bulk sms refused: JSON body unreadable or too large');
          await release(key, intake);
          return;
        }
        const b = (ctx.request.body ?? {}) as { message?: unknown; recipients?: unknown; confirmDuplicate?: unknown; dryRun?: unknown; sendAt?: unknown };
        message = b.message;
        confirm = truthy(b.confirmDuplicate);
        sendAt = parseSendAt(b.sendAt);
        checkMessage(message);
        if (!Array.isArray(b.recipients)) throw new BulkError('RECIPIENTS_REQUIRED', 'recipients must be an array of phone numbers');
        if (truthy(b.dryRun)) {
          dry = true;
          intake.setDryRun();
        }
        // Placeholders are filled from recipients given as objects: { phone, name, … }.
        const template = templateOf(message as string);
        intake.setTemplate(template);
        const first = b.recipients[0] as unknown;
        if (template) checkColumns(template, first && typeof first === 'object' ? Object.keys(first) : undefined);
        for (const r of b.recipients) {
          if (r && typeof r === 'object' && !Array.isArray(r)) {
            const fields: Record<string, string> = {};
            for (const [k, v] of Object.entries(r as Record<string, unknown>))
              fields[k.trim().toLowerCase()] = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
            await intake.add(fields.phone ?? fields.msisdn ?? '', (fields.phone ?? fields.msisdn) ? undefined : 'no phone field', fields);
          } else await intake.add(typeof r === 'string' || typeof r === 'number' ? String(r) : '');
        }
      } else if (ctx.is('multipart/form-data')) {
        body = uploadBody(ctx.req, max());
        const form = await readMultipart(ctx.req.headers, body, intake, max());
        dry ||= form.dryRun;
        message = form.message;
        confirm = form.confirmDuplicate;
        sendAt = parseSendAt(form.sendAt);
      } else if (ctx.is('text/csv', 'text/plain', 'application/csv')) {
        message = ctx.query.message ?? headerMessage(ctx.get('x-sms-message') || undefined);
        confirm = truthy(ctx.query.confirmDuplicate);
        sendAt = parseSendAt(ctx.query.sendAt);
        checkMessage(message);
        const template = templateOf(message as string);
        intake.setTemplate(template);
        const charset = charsetOf(ctx.get('content-type'));
        if (charset === 'unsupported') throw new BulkError('UNSUPPORTED_CHARSET', 'CSV charset must be UTF-8, UTF-16 (LE/BE) or ISO-8859-1', 415);
        body = uploadBody(ctx.req, max());
        const decoded = decodeToUtf8(charset);
        pipeline(body, decoded, () => undefined); // an error in either ends the CSV reader below
        const rowsOf = template ? csvRows(decoded, { fields: true, onHeader: (h) => checkColumns(template, h) }) : csvRows(decoded);
        for await (const rows of rowsOf) await intake.addMany(rows);
        if (!ctx.req.complete) throw new BulkError('UPLOAD_INCOMPLETE', 'the upload ended before the whole body arrived');
      } else {
        throw new BulkError('UNSUPPORTED_TYPE', 'send JSON { message, recipients }, a text/csv body (?message=…) or multipart/form-data (message, file)', 415);
      }
      if (dry) {
        ctx.status = 200;
        ctx.body = await intake.dryRunResult(String(message ?? ''));
        await release(key, intake);
        return;
      }
      const summary = await intake.finish(
        String(message ?? ''),
        async (fingerprint) => {
          if (key) {
            const other = await guard.commit(key, intake.id);
            if (other) throw new ReplayOf(other);
          }
          recorded = fingerprint; // from here on an error gives it back (below), as it may have landed
          const dup = await guard.duplicateOf(fingerprint, intake.id, confirm);
          if (dup) {
            recorded = undefined; // not ours: the earlier campaign's
            throw new BulkError(
              'DUPLICATE_CAMPAIGN',
              `the same message went to the same recipients in campaign ${dup} less than ${app.config.SMS_DUPLICATE_WINDOW_S} s ago; send confirmDuplicate: true to send it again`,
              409,
              { duplicateOf: dup },
            );
          }
        },
        sendAt ? { sendAt } : {},
      );
      ctx.status = 202;
      ctx.body = { ...summary, statusUrl: `/api/sms/bulk/${summary.id}` };
    } catch (err) {
      // Nothing of this campaign will be sent: its content is not "sent recently" either, or the
      // client's retry would be refused as a duplicate of a campaign that never went out. Once a
      // job was queued part of it may have gone, and the fingerprint stays.
      if (recorded && !intake.queued) await guard.dropFingerprint(recorded, intake.id);
      await intake.abort();
      await release(key, intake);
      if (err instanceof ReplayOf) {
        if (await replay(ctx, err.id)) return;
        err = new BulkError(
          'IDEMPOTENCY_IN_PROGRESS',
          'another request with this Idempotency-Key made a campaign that cannot be read yet; retry shortly',
          409,
          { id: err.id },
        );
      }
      stopReading(ctx, body, err);
      if (fail(ctx, err)) {
        app.logger.warn({ bulkId: intake.id, error: (err as BulkError).code, reason: (err as Error).message }, 'bulk sms refused');
        return;
      }
      // The client went away mid-upload (socket reset, parse error): nothing to answer, nothing sent.
      if (!ctx.req.complete) {
        app.logger.warn({ bulkId: intake.id, err: (err as Error).message }, 'bulk upload cut off; discarded');
        fail(ctx, new BulkError('UPLOAD_INCOMPLETE', 'the upload ended before the whole body arrived'));
        return;
      }
      throw err;
    } finally {
      unhold();
    }
  };

  async function release(key: string, intake: BulkIntake): Promise<void> {
    if (!key) return;
    await guard.release(key, intake.id);
    await guard.forget(key, intake.id);
  }

  /**
   * We answer before the body is all in: a body over the limit is not read further (the
   * connection closes after the answer); any other refusal reads and drops the rest so the
   * client, still sending, gets to read the answer.
   */
  function stopReading(ctx: Context, body: ReturnType<typeof uploadBody> | undefined, err: unknown): void {
    body?.destroy(); // the parser's buffers go now, not when the request is collected
    if (ctx.req.complete || ctx.req.destroyed) return;
    if (body) ctx.req.unpipe(body);
    if (err instanceof BulkError && err.status === 413) {
      ctx.set('Connection', 'close');
      ctx.req.pause();
      return;
    }
    drain(ctx.req, max(), body?.bytes ?? 0);
  }
}
