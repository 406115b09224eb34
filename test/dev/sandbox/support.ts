// Test helpers for the sandbox gateway: an independent HMAC signer (written from the docs, not
// imported from src), a JSON caller, signed requests, and a real HTTP server that receives IPNs.
// (The sandbox on its own HTTP server: test/support/sandbox.ts.)
import { after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_KEY, MERCHANT, SECRET } from '../../support/sandbox.js';
import { startTestService } from '../../support/service.js';

export function sign(...values: string[]): string {
  return createHmac('sha256', SECRET).update(values.join('')).digest('hex');
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  ms: number;
}

/** The sandbox's API at `base` (under /sandbox), with the documented apiKey header. */
export function sandboxApi(base: string) {
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { apiKey: API_KEY }): Promise<Reply> {
    const t0 = Date.now();
    const res = await fetch(`${base}/sandbox${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const textBody = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = textBody ? (JSON.parse(textBody) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: textBody };
    }
    return { status: res.status, headers: res.headers, body: parsed, ms: Date.now() - t0 };
  }
  return {
    call,
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    get: (path: string) => call('GET', path),
    ledger: async () => (await call('GET', '/_ledger')).body as unknown as Array<Record<string, unknown>>,
    sms: async () => (await call('GET', '/_sms')).body as unknown as Array<Record<string, unknown>>,
    ipn: async () =>
      (await call('GET', '/_ipn')).body as unknown as Array<{
        kind: string;
        event?: string;
        signed: boolean;
        transactionRef: string;
        url: string;
        state: string;
        attempts: Array<{ at: string; status: number | null }>;
      }>,
    faults: (f: unknown) => call('POST', '/_faults', f),
    webhooks: (w: unknown) => call('POST', '/_webhooks', w),
    reset: () => call('POST', '/_reset', {}),
  };
}

/** HMAC-SHA256 hex with any secret (the documents' examples use other merchants). */
export function signWith(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

// ── Valid requests, signed in the documented order ────────────────────────────
let n = 0;
/** A fresh amount keeps otherwise-identical requests out of the duplicate window. */
export function uniqueAmount(base = 100): string {
  n++;
  return String(base + n);
}

export function airtime(o: Partial<Record<string, string>> = {}) {
  const b = { MerchantID: MERCHANT, phone: '0712345678', amount: uniqueAmount(), telco: 'SAFARICOM', initiatorPhone: '+254712345678', ...o };
  return { ...b, signature: sign(b.amount, b.phone, b.telco, b.initiatorPhone, b.MerchantID) };
}

export function bill(o: Partial<Record<string, string>> = {}) {
  const b = { MerchantID: MERCHANT, account: '0123456789', amount: uniqueAmount(500), telco: 'DSTV', initiatorPhone: '+254712345678', ...o };
  return { ...b, signature: sign(b.amount, b.account, b.telco, b.initiatorPhone, b.MerchantID) };
}

export function checkout(o: Partial<Record<string, string>> = {}, metadata: Record<string, unknown> = {}) {
  const b = { MerchantID: MERCHANT, phoneNumber: '0712345678', amount: uniqueAmount(), channel: 'MPESA', ...o };
  return { ...b, metadata, signature: sign(b.amount, b.phoneNumber, b.channel, b.MerchantID) };
}

export function mobilePayout(o: { phone?: string; amount?: string; channel?: string } = {}) {
  const d = { destinationPhone: o.phone ?? '0712345678', amount: o.amount ?? uniqueAmount(), channel: o.channel ?? 'MPESA' };
  const s = { initiatorName: 'John Doe', initiatorCountry: 'Kenya' };
  return {
    MerchantID: MERCHANT,
    source: s,
    destination: d,
    signature: sign(d.amount, d.destinationPhone, s.initiatorName, s.initiatorCountry, d.channel, MERCHANT),
  };
}

export function bankPayout(o: { bankCode?: string; accountNumber?: string; amount?: string } = {}) {
  const d = {
    name: 'Harry Kessy',
    accountNumber: o.accountNumber ?? '2042581154',
    phoneNumber: '0715330000',
    amount: o.amount ?? uniqueAmount(),
    bankCode: o.bankCode ?? '101',
  };
  const s = { initiatorName: 'John Doe', initiatorCountry: 'Kenya' };
  return {
    MerchantID: MERCHANT,
    source: s,
    destination: d,
    signature: sign(d.amount, d.accountNumber, d.phoneNumber, d.bankCode, s.initiatorName, s.initiatorCountry, MERCHANT),
  };
}

export function b2b(o: { channel?: string; resultUrl?: string; amount?: string } = {}) {
  const d = { shortCode: '4079491', identifier: '+254739117883', amount: o.amount ?? uniqueAmount(5000), remarks: 'Settlement' };
  const channel = o.channel ?? 'BusinessPayBill';
  return {
    MerchantID: MERCHANT,
    channel,
    resultUrl: o.resultUrl ?? 'https://example.com/cb',
    destination: d,
    signature: sign(MERCHANT, channel, d.shortCode, d.identifier, d.amount),
  };
}

export function upi(o: { senderChannel?: string; amount?: string } = {}) {
  const sender = { account: '1234567890', channel: o.senderChannel ?? '101', currency: 'KES' };
  const recipient = { account: '99887766', channel: '301', currency: 'KES' };
  const amount = o.amount ?? uniqueAmount(1000);
  return {
    MerchantID: MERCHANT,
    sender,
    recipient,
    amount,
    narration: 'school fees',
    signature: sign(MERCHANT, sender.account, sender.channel, recipient.account, recipient.channel, amount),
  };
}

export function sms(o: { phone?: string; otp?: string; message?: string } = {}) {
  const b: Record<string, string> = { MerchantID: MERCHANT, phone: o.phone ?? '0712345678' };
  if (o.otp !== undefined) b.otp = o.otp;
  if (o.message !== undefined) b.message = o.message;
  return { ...b, signature: sign(b.phone!, b.otp ?? '', MERCHANT) };
}

/** Bulk SMS on the documented SMS endpoint: numbers joined by "," in `phone`, signed phone + otp("") + MerchantID. */
export function bulk(phones: string[], message: string) {
  const phone = phones.join(',');
  return { MerchantID: MERCHANT, phone, message, signature: sign(phone, '', MERCHANT) };
}

// ── A real IPN receiver ─────────────────────────────────────────────────────────
export interface Received {
  at: number;
  raw: string;
  body: Record<string, unknown>;
  /** The X-Kemru-Signature header (IPNs). */
  signature: string | undefined;
  headers: http.IncomingHttpHeaders;
}

export async function ipnReceiver(statusFor: (n: number) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({
        at: Date.now(),
        raw,
        body: JSON.parse(raw) as Record<string, unknown>,
        signature: req.headers['x-kemru-signature'] as string | undefined,
        headers: req.headers,
      });
      res.statusCode = statusFor(received.length);
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"success"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ipn`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Registers `url` as the merchant's IPN callback URL (the documented create call). */
export async function registerCallback(gw: ReturnType<typeof sandboxApi>, url: string): Promise<void> {
  const r = await gw.post('/billing/v1/callback-url/create', { MerchantID: MERCHANT, callbackURL: url, signature: sign(MERCHANT) });
  assert.equal(r.body.status_code, '0000');
}

/**
 * The service with its embedded sandbox (`env` its settings), and an IPN receiver registered
 * as the callback URL afresh before each test of the file, after a _reset. Registers the file's
 * hooks: what the files that watch the sandbox's IPNs share.
 */
export async function sandboxWithReceiver(env: Record<string, string>) {
  const svc = await startTestService(env, { workers: false });
  const gw = sandboxApi(svc.url);
  const rx = await ipnReceiver();
  after(async () => {
    await svc.close();
    await rx.close();
  });
  beforeEach(async () => {
    await gw.reset();
    rx.received.length = 0;
    await registerCallback(gw, rx.url);
  });
  return { svc, gw, rx };
}
