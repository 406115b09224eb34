// The raw side of a bulk upload: how many bytes may come (BULK_MAX_BYTES), in which charset,
// and the message given in a header. Everything here streams; nothing holds the body.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { BulkError } from './errors.js';

/** 413 as soon as more than `max` bytes have passed (the declared Content-Length is checked first). */
export function checkDeclaredSize(ctx: Context, max: number): void {
  const enc = ctx.get('content-encoding').trim().toLowerCase();
  if (enc && enc !== 'identity') throw new BulkError('UNSUPPORTED_ENCODING', 'send the upload uncompressed (Content-Encoding is not supported here)', 415);
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
}

export function tooLarge(max: number): BulkError {
  return new BulkError('FILE_TOO_LARGE', `upload larger than BULK_MAX_BYTES (${max} bytes)`, 413);
}

/**
 * The parser works through whatever it is handed in one go: a 64 KB socket read is ~6,000 rows,
 * several ms of CPU that no other request can interrupt. Handed on in slices this size, the
 * stream's own backpressure stops after a slice or two until the rows are used.
 */
const SLICE_BYTES = 8 * 1024;

/** Counts bytes through, in slices of SLICE_BYTES; errors with FILE_TOO_LARGE past `max`. */
export function byteLimit(max: number): Transform & { bytes: number } {
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      (t as Transform & { bytes: number }).bytes = bytes;
      if (bytes > max) return cb(tooLarge(max));
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) t.push(chunk.subarray(at, at + SLICE_BYTES));
      cb();
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

type Charset = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** The charset parameter of a Content-Type → a decoder name; undefined when we cannot decode it. */
export function charsetOf(contentType: string): Charset | undefined | 'unsupported' {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  if (!m) return undefined;
  const c = m[1]!.toLowerCase();
  if (c === 'utf-8' || c === 'utf8' || c === 'us-ascii' || c === 'ascii') return 'utf-8';
  // "UTF-16" without a BOM is big-endian (RFC 2781); a BOM, when present, overrides it.
  if (c === 'utf-16' || c === 'utf-16be' || c === 'utf16' || c === 'ucs-2') return 'utf-16be';
  if (c === 'utf-16le') return 'utf-16le';
  if (c === 'iso-8859-1' || c === 'latin1' || c === 'windows-1252' || c === 'cp1252') return 'windows-1252';
  return 'unsupported';
}

/**
 * Re-encodes the upload as UTF-8 for the CSV parser. A byte order mark decides (UTF-8, UTF-16 LE
 * or BE: spreadsheet "Unicode text" exports carry one), else the declared charset, else UTF-8.
 * UTF-8 passes through untouched (the parser drops its BOM).
 */
export function decodeToUtf8(declared: Charset | undefined): Transform {
  let decoder: TextDecoder | null | undefined; // undefined: not decided yet; null: pass through
  let head = Buffer.alloc(0);
  const decide = (buf: Buffer): void => {
    let cs: Charset = declared ?? 'utf-8';
    if (buf[0] === 0xff && buf[1] === 0xfe) cs = 'utf-16le';
    else if (buf[0] === 0xfe && buf[1] === 0xff) cs = 'utf-16be';
    else if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) cs = 'utf-8';
    decoder = cs === 'utf-8' ? null : new TextDecoder(cs); // TextDecoder drops the BOM itself
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (decoder === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 3) return cb();
        decide(head);
        chunk = head;
        head = Buffer.alloc(0);
      }
      if (decoder === null) return cb(null, chunk);
      cb(null, Buffer.from(decoder!.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(cb: TransformCallback) {
      if (decoder === undefined) {
        if (head.length === 0) return cb();
        decide(head);
        if (decoder === null) return cb(null, head);
        return cb(null, Buffer.from(decoder!.decode(head), 'utf8'));
      }
      if (decoder === null) return cb();
      const rest = decoder.decode();
      cb(null, rest ? Buffer.from(rest, 'utf8') : undefined);
    },
  });
}

/**
 * The `x-sms-message` header as text. HTTP carries header bytes, which Node hands over as
 * Latin-1 characters: ASCII is taken as is; other bytes must be UTF-8 (decoded) or the value
 * RFC 8187-encoded (`UTF-8''Karibu%20%E2%82%AC`). Anything else would be sent as mojibake, so
 * it is refused.
 */
export function headerMessage(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ext = /^utf-8''(.*)$/i.exec(raw);
  if (ext) {
    try {
      return decodeURIComponent(ext[1]!);
    } catch {
      throw new BulkError('BAD_MESSAGE_HEADER', "x-sms-message: bad percent-encoding after UTF-8''");
    }
  }
  if (/^[\x00-\x7f]*$/.test(raw)) return raw;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(raw, 'latin1'));
  } catch {
    throw new BulkError('BAD_MESSAGE_HEADER', "x-sms-message must be UTF-8 (or UTF-8''percent-encoded); use ?message= otherwise");
  }
}

/**
 * The request body through byteLimit, with the request's own failures passed on: a client that
 * goes away mid-upload ends the stream with UPLOAD_INCOMPLETE instead of leaving it open.
 * The request itself is never destroyed here, so an answer can still be sent.
 */
export function uploadBody(req: IncomingMessage, max: number): Transform & { bytes: number } {
  const limited = byteLimit(max);
  const cut = () => limited.destroy(new BulkError('UPLOAD_INCOMPLETE', 'the upload ended before the whole body arrived'));
  req.on('error', cut);
  req.on('close', () => {
    if (!req.complete) cut();
  });
  req.pipe(limited);
  return limited;
}

/** Reads what is left of a request we stopped parsing, so the answer can go out on a live connection. */
export function drain(req: Readable, max: number, alreadyRead: number): void {
  let n = alreadyRead;
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > max) req.destroy(); // no longer worth reading: drop the connection
  });
  req.resume();
}
