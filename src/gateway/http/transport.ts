// One HTTP transport per gateway instance: an undici dispatcher (injected, or our own Agent
// with keep-alive that close() ends), connect/headers/body timeouts, JSON in and out.
// It never retries: it only says precisely how a call failed, so the caller can decide
// whether a retry is safe (see TransportError.sent).
import { Agent, request, type Dispatcher } from 'undici';

export interface TransportOptions {
  /** Base URL; request paths are appended (no trailing slash needed). */
  baseUrl: string;
  /** Injected dispatcher (tests, sandbox wiring). When absent we create and own an Agent. */
  dispatcher?: Dispatcher;
  connectTimeoutMs: number;
  /** Applies to waiting for the response headers and, separately, for each body chunk. */
  timeoutMs: number;
  /** Keep-alive idle time for our own Agent. */
  keepAliveMs?: number;
  /** Max sockets per origin for our own Agent. */
  connections?: number;
  /** Told how every request ended (metrics): its HTTP status, or the kind of failure, and how long it took. */
  onDone?: (r: { path: string; status?: number; failure?: TransportError['kind']; ms: number }) => void;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Appended to baseUrl, e.g. "/billing/v1/airtime/create". */
  path: string;
  headers?: Record<string, string>;
  /** Serialized as JSON when present. */
  json?: unknown;
  signal?: AbortSignal;
  /** Overrides TransportOptions.timeoutMs for this request (e.g. a lookup with its own budget). */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  /** Parsed body, or undefined when it was not JSON. */
  json: unknown;
  /** ms from dispatch to full body. */
  elapsedMs: number;
}

/**
 * A call that produced no HTTP response.
 * - sent=false: the request never left (connect refused/timed out, DNS failure, aborted before
 *   dispatch): always safe to retry.
 * - sent=true: it may have reached the server (timeout or reset after the connection was up,
 *   abort while in flight): the outcome is unknown; never re-send a non-idempotent call blindly.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly code: string,
    readonly sent: boolean,
    readonly kind: 'connect' | 'timeout' | 'reset' | 'aborted' | 'other',
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export interface HttpTransport {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Closes the dispatcher only when we created it. */
  close(): Promise<void>;
}

// Failures that happen before a socket is connected: nothing was written.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CONNECT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function errCode(e: unknown): string {
  const x = e as { code?: unknown; cause?: { code?: unknown }; errors?: Array<{ code?: unknown }> } | null;
  if (x && typeof x.code === 'string') return x.code;
  if (x?.cause && typeof x.cause.code === 'string') return x.cause.code;
  const first = x?.errors?.[0];
  if (first && typeof first.code === 'string') return first.code;
  return 'UNKNOWN';
}

export function classify(e: unknown, signal: AbortSignal | undefined, abortedBeforeDispatch: boolean): TransportError {
  if (e instanceof TransportError) return e;
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || (e as { name?: string } | null)?.name === 'AbortError') {
    return new TransportError('request aborted', 'ABORTED', !abortedBeforeDispatch, 'aborted', e);
  }
  if (NOT_SENT_CODES.has(code)) return new TransportError(`connect failed: ${code}`, code, false, 'connect', e);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return new TransportError(`timed out: ${code}`, code, true, 'timeout', e);
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
    return new TransportError(`connection reset: ${code}`, code, true, 'reset', e);
  }
  return new TransportError(`transport error: ${msg}`, code, true, 'other', e);
}

export function createTransport(opts: TransportOptions): HttpTransport {
  const owned = opts.dispatcher === undefined;
  const dispatcher: Dispatcher =
    opts.dispatcher ??
    new Agent({
      keepAliveTimeout: opts.keepAliveMs ?? 10_000,
      connections: opts.connections ?? 32,
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  const base = opts.baseUrl.replace(/\/$/, '');
  let closed = false;

  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      if (closed) throw new TransportError('transport closed', 'CLOSED', false, 'other');
      const abortedBefore = req.signal?.aborted ?? false;
      if (abortedBefore) throw classify(new Error('aborted'), req.signal, true);
      const started = performance.now();
      const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
      let body: string | undefined;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers['content-type'] = 'application/json';
      }
      // undici's own headers/body timers tick every ~0.5 s; this deadline is exact and covers
      // the whole exchange (headers and body). Theirs stay as a backstop.
      const timeoutMs = req.timeoutMs ?? opts.timeoutMs;
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
      try {
        const res = await request(`${base}${req.path}`, {
          dispatcher,
          method: req.method,
          headers,
          body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const text = await res.body.text();
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
        }
        let json: unknown;
        if (text !== '') {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        const elapsedMs = performance.now() - started;
        opts.onDone?.({ path: req.path, status: res.statusCode, ms: elapsedMs });
        return { status: res.statusCode, headers: flat, text, json, elapsedMs };
      } catch (e) {
        const err =
          deadline.aborted && !req.signal?.aborted
            ? new TransportError(`no complete answer within ${timeoutMs} ms`, 'TIMEOUT', true, 'timeout', e)
            : classify(e, req.signal, false);
        opts.onDone?.({ path: req.path, failure: err.kind, ms: performance.now() - started });
        throw err;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned) await dispatcher.close().catch(() => undefined);
    },
  };
}
