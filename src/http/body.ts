// Body parsing with sane limits. `ctx.request.rawBody` keeps the exact bytes for signature checks.
import { bodyParser } from '@koa/bodyparser';

/** JSON + form, 16 KB: USSD callbacks, IPNs and small API calls. Oversized bodies get 413. */
export function smallBody() {
  return bodyParser({
    enableTypes: ['json', 'form', 'text'],
    jsonLimit: '16kb',
    formLimit: '16kb',
    textLimit: '16kb',
    encoding: 'utf-8',
  });
}

export const SMALL_BODY_LIMIT = 16 * 1024;

export type SmallRead =
  | { ok: true; body: unknown }
  /** Something the strict reader does not handle (compressed, unusual charset): use smallBody(). */
  | { ok: false; status: 0 }
  | { ok: false; status: 400 | 413; reason: string };

/**
 * A strict reader for the hot USSD callback: form (URLSearchParams on the raw bytes) or JSON,
 * utf-8, identity encoding, at most `limit` bytes, without the general parser's per-request
 * machinery. Sets ctx.request.body and ctx.request.rawBody like smallBody() does; anything
 * else returns status 0 and the caller falls back to smallBody().
 */
export async function readSmallBody(ctx: import('koa').Context, limit = SMALL_BODY_LIMIT): Promise<SmallRead> {
  const req = ctx.req;
  const h = req.headers;
  const enc = h['content-encoding'];
  if (enc !== undefined && enc.toLowerCase() !== 'identity') return { ok: false, status: 0 };
  const ct = h['content-type'] ?? '';
  const semi = ct.indexOf(';');
  const mime = (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  const params = semi < 0 ? '' : ct.slice(semi + 1).toLowerCase();
  if (params && !/^\s*charset\s*=\s*"?utf-?8"?\s*$/.test(params)) return { ok: false, status: 0 };
  const kind = mime === 'application/x-www-form-urlencoded' ? 'form' : mime === 'application/json' ? 'json' : undefined;
  if (!kind) return { ok: false, status: 0 };
  if (req.readableEnded) return { ok: false, status: 400, reason: 'request body already read' };
  const declared = h['content-length'];
  if (declared !== undefined && Number(declared) > limit) return { ok: false, status: 413, reason: 'request entity too large' };

  let raw: string;
  try {
    raw = await readLimited(req, limit);
  } catch (err) {
    const status = (err as { status?: number }).status === 413 ? 413 : 400;
    return { ok: false, status, reason: (err as Error).message };
  }
  let body: unknown;
  if (kind === 'form') {
    const o: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      const prev = o[k];
      // A repeated field becomes a list, as the general parser does (and the adapter rejects it).
      o[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    body = o;
  } else {
    if (raw.trim() === '') body = {};
    else {
      try {
        body = JSON.parse(raw);
      } catch {
        return { ok: false, status: 400, reason: 'invalid JSON' };
      }
      // Strict JSON, as smallBody(): only an object or an array is a body.
      if (body === null || typeof body !== 'object') return { ok: false, status: 400, reason: 'invalid JSON' };
    }
  }
  (ctx.request as unknown as { body: unknown; rawBody: string }).body = body;
  (ctx.request as unknown as { rawBody: string }).rawBody = raw;
  return { ok: true, body };
}

// Listeners are inline arrows on purpose: named closures made per request cost more than the
// parsing itself under tsx (every one is wrapped to keep its name).
function readLimited(req: import('node:http').IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    // After a failure the rest is still read (and dropped) so the connection can carry the answer.
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size <= limit) chunks.push(c);
      else {
        failed = true;
        chunks.length = 0;
        reject(Object.assign(new Error('request entity too large'), { status: 413 }));
      }
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    });
    req.on('error', (err: Error) => {
      failed = true;
      reject(Object.assign(err, { status: 400 }));
    });
    req.on('aborted', () => {
      failed = true;
      reject(Object.assign(new Error('request aborted'), { status: 400 }));
    });
  });
}
