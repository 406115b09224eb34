// Turns our request into the exact wire body: build from the table entry, rewrite each phone
// field into the one format of the API (wire-choices.ts), add our reference and offline_mode,
// then sign (docs/gateways.md, "Signatures").
import { createHmac } from 'node:crypto';
import { parsePhone } from '../../lib/phone.js';
import { kyandaError } from './codes.js';
import type { BuildContext, Endpoint, Family, PhoneFormat, PhoneShape, WireBody } from './endpoints.js';
import { DEFAULT_PHONE_FORMAT, REFERENCE_PATH, SMS } from './wire-choices.js';

const PHONE_CODE: Record<Family, string> = { airtime: '9001', bill: '8002', other: '1109' };

export function hmacHex(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

/** The concatenated string that gets signed (exported for tests and debugging, never logged). */
export function signaturePayload(ep: Endpoint<never>, body: WireBody): string {
  return (ep.signature ?? []).map((get) => get(body)).join('');
}

function formatPhone(value: unknown, format: PhoneFormat, family: Family, field: string): string {
  const p = parsePhone(value);
  if (!p.ok) throw kyandaError(PHONE_CODE[family], `${field}: ${p.reason}`);
  return format === 'national' ? p.national : p.e164;
}

function applyPhones(body: WireBody, phones: Record<string, PhoneShape>, format: PhoneFormat, family: Family): void {
  for (const [path, shape] of Object.entries(phones)) {
    const parts = path.split('.');
    const last = parts.pop()!;
    let parent: Record<string, unknown> | undefined = body;
    for (const p of parts) parent = parent?.[p] as Record<string, unknown> | undefined;
    if (!parent) continue;
    const cur = parent[last];
    if (cur === undefined || cur === '') throw kyandaError('1108', `missing ${path}`);
    parent[last] =
      shape === 'list'
        ? String(cur)
            .split(SMS.recipientSeparator)
            .map((x, i) => formatPhone(x, format, family, `${path}[${i}]`))
            .join(SMS.recipientSeparator)
        : formatPhone(cur, format, family, path);
  }
}

export interface WireOptions {
  reference?: string;
  offlineMode?: boolean;
}

/**
 * The signed body for one call. Throws GatewayError (a platform validation code) for input the
 * gateway would reject anyway, so nothing doomed is sent.
 */
export function buildWireBody<Req>(ep: Endpoint<Req>, req: Req, ctx: BuildContext, secret: string, opts: WireOptions = {}): WireBody | undefined {
  if (ep.method === 'GET') return undefined;
  const body = ep.build(req, ctx);
  applyPhones(body, ep.phones, ctx.config.GATEWAY_PHONE_FORMAT ?? DEFAULT_PHONE_FORMAT, ep.family);
  if (ep.carriesReference && opts.reference) {
    // Our idempotency key, unsigned (a wire choice: docs/gateways.md, "Wire choices").
    const [outer, inner] = REFERENCE_PATH;
    const meta = (body[outer] && typeof body[outer] === 'object' ? body[outer] : {}) as Record<string, unknown>;
    body[outer] = { ...meta, [inner]: opts.reference };
  }
  // "Add to any request body"; no documented signature order includes it (docs/gateways.md, "Offline mode").
  if (opts.offlineMode) body.offline_mode = true;
  if (ep.signature) body.signature = hmacHex(signaturePayload(ep as Endpoint<never>, body), secret);
  return body;
}
