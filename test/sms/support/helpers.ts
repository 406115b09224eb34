// Shared helpers for the SMS tests: API calls with the test token, the sandbox's SMS log,
// bounded polling.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../../src/log.js';

export const TOKEN = 'test-api-token-0123456789';

export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers } };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof FormData) init.body = body;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json, headers: res.headers };
}

export interface SandboxSms { ref: string; recipients: string[]; message: string; at: string }

export async function sandboxSms(base: string): Promise<SandboxSms[]> {
  const res = await fetch(`${base}/sandbox/_sms`);
  if (!res.ok) throw new Error(`GET /sandbox/_sms → ${res.status}`);
  const j = (await res.json()) as SandboxSms[] | { sms?: SandboxSms[] };
  return Array.isArray(j) ? j : (j.sms ?? []);
}

/** The 9 digits after the country code / trunk 0, whatever format the sandbox records. */
export const nsn = (phone: string) => phone.replace(/\D/g, '').slice(-9);

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A pino logger whose every line lands in `lines`. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/** n distinct valid Kenyan mobiles (Safaricom 07xx), deterministic from seed. */
export function uniqueNumbers(n: number, seed: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`07${String(10 + (seed % 20)).padStart(2, '0')}${String(i).padStart(6, '0')}`);
  return out;
}

/** The same number in another accepted format, chosen by i. */
export function reformat(national: string, i: number): string {
  const n9 = national.slice(1);
  return [`+254${n9}`, `254${n9}`, n9, `0${n9.slice(0, 3)} ${n9.slice(3, 6)} ${n9.slice(6)}`][i % 4]!;
}
