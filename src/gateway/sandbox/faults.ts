// POST /sandbox/_faults (CONTRACT.md): { latencyMs?, failNext?: { code, count, path? }, down? }.
import { isPlatformErrorCode } from './codes.js';

export interface FailNext {
  code: string;
  count: number;
  path?: string;
}

export interface Faults {
  latencyMs: number;
  failNext: FailNext | null;
  down: boolean;
}

export function noFaults(): Faults {
  return { latencyMs: 0, failNext: null, down: false };
}

/** A failNext code is a platform error code ("1105") or an HTTP error status ("429", "500"). */
function validCode(code: string): boolean {
  if (isPlatformErrorCode(code)) return true;
  return /^[45]\d\d$/.test(code);
}

/** Applies a _faults body onto the current faults; only the keys given change. */
export function applyFaults(cur: Faults, body: unknown): { ok: true; faults: Faults } | { ok: false; error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'body must be an object' };
  const b = body as Record<string, unknown>;
  const next: Faults = { ...cur };
  if ('latencyMs' in b) {
    const v = b.latencyMs;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 120_000) return { ok: false, error: 'latencyMs must be an integer 0..120000' };
    next.latencyMs = v;
  }
  if ('down' in b) {
    if (typeof b.down !== 'boolean') return { ok: false, error: 'down must be a boolean' };
    next.down = b.down;
  }
  if ('failNext' in b) {
    const f = b.failNext;
    if (f === null) {
      next.failNext = null;
    } else {
      if (typeof f !== 'object' || Array.isArray(f)) return { ok: false, error: 'failNext must be an object or null' };
      const o = f as Record<string, unknown>;
      const code = typeof o.code === 'number' ? String(o.code) : o.code;
      if (typeof code !== 'string' || !validCode(code)) return { ok: false, error: 'failNext.code must be a platform error code or an HTTP 4xx/5xx status' };
      const count = o.count === undefined ? 1 : o.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return { ok: false, error: 'failNext.count must be a non-negative integer' };
      if (o.path !== undefined && typeof o.path !== 'string') return { ok: false, error: 'failNext.path must be a string' };
      next.failNext = count === 0 ? null : { code, count, ...(o.path ? { path: o.path } : {}) };
    }
  }
  return { ok: true, faults: next };
}

/** Consumes one failNext use when the path matches; returns the code to answer with. */
export function takeFailure(faults: Faults, path: string): string | null {
  const f = faults.failNext;
  if (!f || f.count <= 0) return null;
  if (f.path && !path.includes(f.path)) return null;
  f.count--;
  if (f.count <= 0) faults.failNext = null;
  return f.code;
}
