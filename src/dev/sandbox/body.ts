// The sandbox reads its own JSON bodies: it needs the raw bytes, and bulk SMS (1,000 numbers)
// outgrows the service's 16 KB small-body parser.
import type { IncomingMessage } from 'node:http';

export const MAX_BODY_BYTES = 256 * 1024;

export type BodyResult = { ok: true; raw: Buffer; json: Record<string, unknown> } | { ok: false; status: 400 | 413; reason: string };

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return { ok: false, status: 413, reason: 'body too large' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      return { ok: false, status: 413, reason: 'body too large' };
    }
    chunks.push(buf);
  }
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return { ok: true, raw, json: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, status: 400, reason: 'invalid JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, status: 400, reason: 'body must be a JSON object' };
  }
  return { ok: true, raw, json: parsed as Record<string, unknown> };
}
