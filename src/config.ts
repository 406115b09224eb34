// Every environment variable the service reads, parsed and validated once.
// A bad value stops start-up with one line naming the variable (see loadConfig).
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_PHONE_FORMAT, PHONE_FORMATS, type PhoneFormat } from './gateway/kyanda/wire-choices.js';
import { parseEvents, WEBHOOK_EVENTS } from './gateway/kyanda/webhook-events.js';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { CHANNEL_NAMES, type ChannelName } from './channels/names.js';
import { parseRedisUrl } from './redis-url.js';

const bool = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** "a, b,c" → ['a','b','c'], each checked by `known`; the message names the offenders. */
function list<T extends string>(known: (v: string) => boolean, what: string, norm: (v: string) => string) {
  return z.string().transform((s, ctx): T[] => {
    const items = [
      ...new Set(
        s
          .split(',')
          .map((v) => norm(v.trim()))
          .filter(Boolean),
      ),
    ];
    const bad = items.filter((v) => !known(v));
    if (items.length === 0 || bad.length) {
      ctx.addIssue({ code: 'custom', message: items.length ? `unknown ${what}: ${bad.join(', ')}` : `lists no ${what}` });
      return z.NEVER;
    }
    return items as T[];
  });
}
const channelList = list<ChannelName>(
  (v) => (CHANNEL_NAMES as readonly string[]).includes(v),
  `channel (known: ${CHANNEL_NAMES.join(', ')})`,
  (v) => v.toLowerCase(),
);
const countryList = list<CountryCode>(
  (v) => /^[A-Z]{2}$/.test(v) && isSupportedCountry(v),
  'country code (ISO 3166, e.g. KE,GH,TZ)',
  (v) => v.toUpperCase(),
);

const schema = z.object({
  // ── HTTP / process ────────────────────────────────────────────────
  /** production: the refusals of productionProblems() apply. */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** In production, run the embedded sandbox gateway anyway (a demo): SANDBOX=1. */
  SANDBOX: bool.default(false),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_URL: z.string().url().optional(), // default derived from PORT below
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Start BullMQ workers inside the HTTP process (npm run worker runs them alone). */
  WORKERS: bool.default(true),
  /**
   * all: HTTP and workers (npm start); web: HTTP only, no workers or timers (scaled apart from
   * the workers); worker: workers only, no HTTP (npm run worker).
   */
  ROLE: z.enum(['all', 'web', 'worker']).default('all'),
  /** On SIGTERM the process exits within this, whatever is still running (its jobs are handed back). */
  SHUTDOWN_TIMEOUT_S: int(1, 3600).default(25),
  /**
   * On SIGTERM /readyz answers 503 this long before the listener closes, so that a load balancer
   * polling it stops sending first; requests arriving meanwhile are served as usual.
   */
  SHUTDOWN_DRAIN_MS: int(0, 600_000).default(3000),

  /** A request's headers must arrive within this, the whole request within the next (slow clients are cut off). */
  HTTP_HEADERS_TIMEOUT_MS: int(1000, 300_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1000, 600_000).default(60_000),

  // ── Redis ─────────────────────────────────────────────────────────
  /** A command (or job add) that gets no answer within this fails: the request answers 503, not hangs. */
  REDIS_COMMAND_TIMEOUT_MS: int(100, 60_000).default(1500),
  /** One node (redis://), a Sentinel set (redis-sentinel://h:p,h:p/<master>) or a Cluster (redis-cluster://h:p,h:p). */
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .superRefine((v, ctx) => {
      try {
        parseRedisUrl(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  /** Prefix of every key we write; tests give each run its own. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('ussd:'),

  // ── USSD engine ───────────────────────────────────────────────────
  USSD_SERVICE_CODE: z
    .string()
    .regex(/^\*[0-9*]+#$/, 'must look like *860*30#')
    .default('*860*30#'),
  USSD_DEADLINE_MS: int(200, 30000).default(4000),
  SESSION_TTL_S: int(1, 86400).default(180),
  /** A dropped (not ENDed) session may be resumed by the same phone within this many seconds. */
  RESUME_WINDOW_S: int(0, 86400).default(300),
  /** Characters per screen on every channel, unless the channel documents fewer (Nalo: 120). */
  SCREEN_MAX_CHARS: int(60, 500).default(182),
  MENUS_DIR: z.string().default('menus'),
  /** How long an idle subscriber's language choice is remembered. */
  LANGUAGE_TTL_S: int(60, 31536000).default(31536000),
  /** Keys typed on any screen: back one screen, home, next page of a long option list. */
  USSD_BACK_KEY: z
    .string()
    .regex(/^[0-9*#]{1,3}$/)
    .default('0'),
  USSD_HOME_KEY: z
    .string()
    .regex(/^[0-9*#]{1,3}$/)
    .default('00'),
  USSD_MORE_KEY: z
    .string()
    .regex(/^[0-9*#]{1,3}$/)
    .default('98'),

  // ── Payment gateway ───────────────────────────────────────────────
  GATEWAY: z.enum(['kyanda', 'pag']).default('kyanda'),
  GATEWAY_URL: z.string().url().optional(), // unset = embedded sandbox at /sandbox
  GATEWAY_API_KEY: z.string().min(1).default('sandbox-api-key'),
  GATEWAY_SECRET: z.string().min(1).default('sandbox-secret'),
  MERCHANT_ID: z.string().min(1).default('sandbox-merchant'),
  /** Secret that signs IPN/webhook bodies; defaults to GATEWAY_SECRET. */
  GATEWAY_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** The docs name the header "X-Kemru Technologies-Signature", which is not a legal header name. */
  GATEWAY_SIGNATURE_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default('X-Kemru-Signature'),
  /**
   * optional: an IPN without a signature is accepted (the gateway documents none for IPNs), one
   * with a wrong signature refused; required: unsigned ones are refused too. Either way money
   * moves only on the gateway's own status lookup.
   */
  IPN_SIGNATURE: z.enum(['optional', 'required']).default('optional'),
  /** Requests per minute across all instances (sandbox account 60, business 300). */
  GATEWAY_RATE_LIMIT_PER_MIN: int(1, 100000).default(60),
  GATEWAY_CONNECT_TIMEOUT_MS: int(100, 60000).default(3000),
  GATEWAY_TIMEOUT_MS: int(100, 120000).default(10000),
  /** First retry delay (1105/1106/5000, connect failures); doubles per attempt, jittered. */
  GATEWAY_RETRY_BASE_MS: int(1, 60000).default(500),
  /** Attempts per call including the first (retries only where safe). */
  GATEWAY_MAX_ATTEMPTS: int(1, 10).default(3),
  /** Longest a call waits for a client-side rate-limit slot or a 429's Retry-After. */
  GATEWAY_RATE_WAIT_MS: int(0, 600000).default(30000),
  /** Budget for the status lookup after an unknown outcome (timeout/abort after sending). */
  GATEWAY_LOOKUP_TIMEOUT_MS: int(100, 60000).default(3000),
  /** Gateway roles (docs/gateways.md, "Roles"); each defaults to GATEWAY. */
  COLLECT_GATEWAY: z.enum(['kyanda', 'pag']).optional(),
  FULFIL_GATEWAY: z.enum(['kyanda', 'pag']).optional(),
  SMS_GATEWAY: z.enum(['kyanda', 'pag']).optional(),
  /** Per-gateway settings when the roles use both gateways (each defaults to the shared GATEWAY_* one). */
  KYANDA_GATEWAY_URL: z.string().url().optional(),
  KYANDA_API_KEY: z.string().min(1).optional(),
  KYANDA_SECRET: z.string().min(1).optional(),
  KYANDA_MERCHANT_ID: z.string().min(1).optional(),
  PAG_GATEWAY_URL: z.string().url().optional(),
  PAG_SECRET: z.string().min(1).optional(),
  PAG_MERCHANT_ID: z.string().min(1).optional(),
  // ── PAG (Payment API Gateway 5.7.3, GATEWAY=pag) ──────────────────
  /** Merchant public id in the request path. */
  PAG_PUBLIC_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/)
    .default('f54ec96649be11ebb3780242ac130002'),
  /**
   * provider_id sent with payments. Unset: 40 (the sandbox's completing provider) when the
   * sandbox is embedded, else 14 (the gateway's simulator, which never completes).
   */
  PAG_PROVIDER_ID: int(1, 100000).optional(),
  PAG_CURRENCY: z.enum(['KES', 'MWK', 'UGX', 'TZS', 'ZMW']).default('KES'),
  /** The OTP the PAG sandbox accepts in the multi-step (OTP) flow. */
  PAG_SANDBOX_OTP: z
    .string()
    .regex(/^\d{4,8}$/)
    .default('123456'),
  /** Biller codes for Kenya Power: the docs name none, so they are configuration. */
  BILLER_KPLC_PREPAID: z.string().default('KPLC_PREPAID'),
  BILLER_KPLC_POSTPAID: z.string().default('KPLC_POSTPAID'),

  // ── Embedded sandbox gateway ──────────────────────────────────────
  /** Multiplies the sandbox's IPN retry schedule (1 = documented 1m,5m,15m,1h,6h). */
  SANDBOX_IPN_TIME_SCALE: z.coerce.number().positive().max(1).optional(),
  SANDBOX_FLOAT_KES: int(0, 1_000_000_000).default(1_000_000),
  SANDBOX_CHECKOUT_DELAY_MS: int(0, 600000).default(1500),
  /** Requests per apiKey per minute before 429: a sandbox account's 60 (see GATEWAY_RATE_LIMIT_PER_MIN). */
  SANDBOX_RATE_LIMIT_PER_MIN: int(1, 1_000_000).default(60),
  /** The same signed values again within this window → duplicate transmission (9005/8006). */
  SANDBOX_DUPLICATE_WINDOW_MS: int(0, 86_400_000).default(10_000),
  /** Checkouts from these phones fail: cancelled by the customer / insufficient M-PESA funds. */
  SANDBOX_CANCEL_PHONE: z
    .string()
    .regex(/^0[17]\d{8}$/, 'must look like 0700000001')
    .default('0700000001'),
  SANDBOX_NOFUNDS_PHONE: z
    .string()
    .regex(/^0[17]\d{8}$/, 'must look like 0700000002')
    .default('0700000002'),

  // ── Gateway wire fidelity (docs/gateways.md) ──────────────────────
  /** Format of every phone field sent to the Kyanda-family API (wire-choices.ts): national 07… or e164. */
  GATEWAY_PHONE_FORMAT: z.enum(PHONE_FORMATS as [PhoneFormat, ...PhoneFormat[]]).default(DEFAULT_PHONE_FORMAT),
  /**
   * Header carrying the webhook events' signature. The documented "X-Kemru Technologies-Signature"
   * contains a space and is not a legal HTTP header name; this is its closest legal spelling.
   */
  GATEWAY_WEBHOOK_SIGNATURE_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and "-" only')
    .default('X-Kemru-Technologies-Signature'),
  /** Sandbox: where webhook events go; unset = the registered IPN callback URL. */
  SANDBOX_WEBHOOK_URL: z.string().url().optional(),
  /** Sandbox: events it sends, comma-separated names, `all` or `none` (a merchant subscribes to events). */
  SANDBOX_WEBHOOK_EVENTS: z
    .string()
    .refine((v) => parseEvents(v).ok, { message: `comma-separated event names (${WEBHOOK_EVENTS.join(', ')}), all or none` })
    .default('none'),

  // ── Money flows ───────────────────────────────────────────────────
  /** An order waiting longer than this for an IPN is looked up with the status endpoint. */
  RECONCILE_AFTER_S: int(1, 86400).default(120),
  RECONCILE_EVERY_S: int(1, 86400).default(30),
  AGENT_MAX_PIN_TRIES: int(1, 10).default(3),
  AGENT_LOCK_S: int(1, 86400 * 7).default(1800),
  /** Payment jobs run at once per worker process. */
  PAYMENTS_CONCURRENCY: int(1, 256).default(8),
  /** BullMQ lock of a running payment job: a killed worker's job is resumed after about this. */
  PAYMENTS_JOB_LOCK_MS: int(1000, 600000).default(30000),
  /** First retry delay of a payment job (unknown outcome, gateway unreachable); doubles per attempt. */
  PAYMENTS_RETRY_BASE_MS: int(10, 600000).default(2000),
  /**
   * The checkout job is queued with this delay when the confirming screen answers, and promoted
   * as soon as the END reply is on the wire; the delay only matters if that promotion is lost.
   */
  CHECKOUT_DELAY_MS: int(0, 600000).default(5000),
  /** initiatorName on refund payouts (mobile payout `source`). */
  PAYMENTS_INITIATOR_NAME: z.string().min(1).default('Kemru Pay'),
  /** initiatorCountry on refund payouts (docs/gateways.md: the documentation's examples write a country name). */
  PAYMENTS_INITIATOR_COUNTRY: z.string().min(1).default('KE'),
  /**
   * How long a money step may stay unresolved (outcome unknown, gateway refusing for now) before
   * its order goes to needs_attention for a person.
   */
  MONEY_RETRY_BUDGET_S: int(1, 30 * 86400).default(3600),
  /** Longest wait between two tries of a held step (the waits double up to this). */
  PAYMENTS_MAX_WAIT_MS: int(10, 3_600_000).default(60_000),

  // ── SMS / OTP ─────────────────────────────────────────────────────
  /** HMAC key for stored OTP codes; set it in production (a random one is made at start otherwise). */
  OTP_SECRET: z.string().min(16).optional(),
  OTP_LENGTH: int(4, 8).default(6),
  /** Lifetime of a code (1 s minimum so tests can watch one expire). */
  OTP_TTL_S: int(1, 3600).default(300),
  OTP_MAX_TRIES: int(1, 20).default(5),
  OTP_RESEND_COOLDOWN_S: int(0, 3600).default(30),
  OTP_MAX_PER_PHONE_PER_HOUR: int(1, 1000).default(5),
  OTP_MAX_PER_IP_PER_HOUR: int(1, 100000).default(50),
  SMS_SENDER_CONCURRENCY: int(1, 64).default(4),
  /** Gateway attempts per bulk batch (429/5xx/1105/unknown outcomes) before it is marked failed. */
  SMS_BATCH_ATTEMPTS: int(1, 50).default(10),
  /** First retry delay of a batch; doubles per attempt (BullMQ exponential backoff). */
  SMS_RETRY_BASE_MS: int(10, 600000).default(2000),
  /** BullMQ lock of a batch being sent: a killed worker's batch is picked up again after this. */
  SMS_JOB_LOCK_MS: int(1000, 600000).default(30000),
  /** How long bulk job records (status, batches, invalid numbers, delivery reports) are kept. */
  SMS_BULK_TTL_S: int(60, 90 * 86400).default(7 * 86400),
  /** Invalid numbers kept with their reasons per bulk job (all are counted). */
  SMS_MAX_INVALID_KEPT: int(0, 10_000_000).default(100_000),

  // ── SMS hardening and gateway allowance ───────────────────────────
  // Kept in one block of their own. docs/sms.md and docs/gateway-clients.md explain them.
  /** Largest POST /api/sms/bulk body (JSON, CSV or multipart), in bytes; above it: 413. */
  BULK_MAX_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  /**
   * Comma-separated IPs or CIDRs of the reverse proxies in front of the service. Only a request
   * arriving from one of them has its X-Forwarded-For read (right to left, skipping trusted
   * hops); unset = the header is ignored and the client is the connecting address.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const entry of list) {
        const [addr, bits, extra] = entry.split('/');
        const kind = isIP(addr ?? '');
        const max = kind === 6 ? 128 : 32;
        if (!kind || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR` });
          return z.NEVER;
        }
      }
      return list;
    }),
  /** OTPs the HTTP API may send per minute in total, all callers and numbers together. */
  OTP_MAX_PER_MIN: int(1, 100000).default(30),
  /** OTPs one client (IP, see TRUSTED_PROXIES) may have sent per minute. */
  OTP_MAX_PER_IP_PER_MIN: int(1, 100000).default(10),
  /**
   * The same message to the same recipients within this many seconds is refused (409
   * DUPLICATE_CAMPAIGN) unless the request says confirmDuplicate; 0 turns the check off.
   */
  SMS_DUPLICATE_WINDOW_S: int(0, 30 * 86400).default(3600),
  /** How long an Idempotency-Key of POST /api/sms/bulk keeps pointing at its campaign. */
  SMS_IDEMPOTENCY_TTL_S: int(60, 30 * 86400).default(86400),
  /** Requests per rolling 24 hours across all instances (sandbox account 5,000); 0 = no daily cap. */
  GATEWAY_RATE_LIMIT_PER_DAY: int(0, 100_000_000).default(0),
  /**
   * Share of the gateway allowance (per minute and per day), in percent, that each lower
   * priority leaves free for the ones above it: notices leave 1×, OTPs 2×, bulk batches 3×
   * (money steps may use all of it). 0 = priorities only order the waiting callers.
   */
  GATEWAY_RATE_RESERVE_PCT: int(0, 33).default(10),
  /** The sandbox's daily cap per apiKey (a sandbox account's 5,000); 429 above it. */
  SANDBOX_RATE_LIMIT_PER_DAY: int(1, 100_000_000).default(5000),
  // ── USSD channels, phone countries, funnel ─────────────────────────
  /** Aggregator channels served at /ussd/<name> (comma list); any other name answers 404. */
  USSD_CHANNELS: channelList.default([...CHANNEL_NAMES]),
  /**
   * Channels that do not number their requests (Arkesel, Nalo, Emergent, Airtel, Infobip): a
   * request arriving within this long after the previous reply was stored is taken as a repeat
   * of the previous request (docs/channels.md, "Repeats"). 0: only requests that arrived before it.
   */
  USSD_REPEAT_WINDOW_MS: int(0, 10_000).default(1000),
  /** Countries whose subscribers are served (ISO 3166 codes); a number from any other gets a polite END. */
  PHONE_COUNTRIES: countryList.default(['KE']),
  /** Days of funnel counts kept in Redis (one hash per service code and day). */
  FUNNEL_RETENTION_DAYS: int(1, 400).default(35),
  /** Where a funnel day starts, in minutes east of UTC (180: Nairobi). */
  FUNNEL_UTC_OFFSET_MIN: int(-720, 840).default(180),
  /** Funnel counts are summed in memory and added to Redis this often (and at shutdown). */
  FUNNEL_FLUSH_MS: int(50, 60_000).default(1000),

  // ── Operator console, menu authoring, campaigns ───────────────────
  // Kept in one block of their own. docs/console.md, docs/menus.md ("Menu authoring") and docs/sms.md ("Bulk SMS").
  /**
   * Languages of the menus, comma-separated codes (en, sw, fr…); the first is the default a
   * subscriber sees before choosing. A menu file may declare its own (`languages:`).
   */
  USSD_LANGUAGES: z
    .string()
    .default('en,sw')
    .transform((v, ctx): string[] => {
      const langs = [
        ...new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ];
      const bad = langs.filter((l) => !/^[a-z]{2,3}$/.test(l) || l === 'set');
      if (langs.length === 0 || bad.length) {
        ctx.addIssue({ code: 'custom', message: langs.length ? `not a language code (2 or 3 lower-case letters): ${bad.join(', ')}` : 'lists no language' });
        return z.NEVER;
      }
      return langs;
    }),
  /** Reload menus when a file in MENUS_DIR changes (default: on in development, off otherwise). */
  MENUS_WATCH: bool.optional(),
  /** A password for the console besides API_TOKEN (at least 12 characters); unset: the token only. */
  CONSOLE_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  /** How long a console sign-in lasts without use. */
  CONSOLE_SESSION_TTL_S: int(60, 7 * 86400).default(8 * 3600),
  /** Wrong console passwords per client address per 15 minutes before sign-in is refused (429). */
  CONSOLE_MAX_FAILED_LOGINS: int(1, 1000).default(10),
  /** Price of one SMS part in cents (KES × 100), for campaign dry runs; the gateway documents none. */
  SMS_PRICE_PER_PART_MINOR: int(0, 1_000_000).default(50),
});

export type RawConfig = z.infer<typeof schema>;
export interface Config extends RawConfig {
  PUBLIC_URL: string;
  GATEWAY_WEBHOOK_SECRET: string;
  SANDBOX_IPN_TIME_SCALE: number;
  /** True when GATEWAY_URL is unset and the sandbox is mounted at /sandbox. */
  embeddedSandbox: boolean;
  /** False when PUBLIC_URL was derived from PORT (startService then uses the real bound port). */
  publicUrlFromEnv: boolean;
  /** PAG_CURRENCY was set explicitly (a real 5.7.3 gateway needs the currency/provider pair chosen). */
  pagCurrencyFromEnv: boolean;
}

export class ConfigError extends Error {}

/** The documented sandbox credentials: never with real money. */
const SANDBOX_CREDENTIALS: Array<[keyof RawConfig, string]> = [
  ['GATEWAY_SECRET', 'sandbox-secret'],
  ['GATEWAY_API_KEY', 'sandbox-api-key'],
  ['MERCHANT_ID', 'sandbox-merchant'],
];
const PRODUCTION_TOKEN_MIN = 32;

/**
 * Production is not the demo (docs/operations.md, "Production"): the embedded sandbox only when
 * asked for (SANDBOX=1, and then its test routes need the API token), a real gateway never with
 * the sandbox's credentials, and always an API token long enough to guard operators' routes.
 */
function productionProblems(c: RawConfig, embedded: boolean, gateways: Array<{ name: string; url: string | undefined }>): string[] {
  const out: string[] = [];
  if (embedded && !c.SANDBOX) {
    const missing = gateways.filter((g) => !g.url).map((g) => g.name);
    out.push(
      `no gateway URL for ${missing.join(', ')}: set GATEWAY_URL (or ${missing.map((n) => `${n.toUpperCase()}_GATEWAY_URL`).join(', ')}) to the real gateway, or SANDBOX=1 to run the embedded sandbox on purpose (a build that has it: npm start or the demo image; no real money)`,
    );
  }
  if (gateways.some((g) => g.url)) {
    for (const [k, v] of SANDBOX_CREDENTIALS)
      if (c[k] === v) out.push(`${k} is the sandbox's documented value "${v}": set the credentials your gateway issued`);
  }
  if (!c.API_TOKEN || c.API_TOKEN.length < PRODUCTION_TOKEN_MIN) {
    out.push(
      `API_TOKEN must be set to at least ${PRODUCTION_TOKEN_MIN} characters (it guards the operators' API${embedded ? " and the sandbox's test routes" : ''})`,
    );
  }
  return out;
}

/** Parse env into a Config; throws ConfigError whose message names the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings are "unset" so `FOO= npm start` behaves like not setting FOO.
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config: ${issue.path.join('.')}: ${issue.message}`);
  }
  const c = parsed.data;
  // The sandbox is mounted when some gateway a role uses has no URL of its own.
  const urls = { kyanda: c.KYANDA_GATEWAY_URL ?? c.GATEWAY_URL, pag: c.PAG_GATEWAY_URL ?? c.GATEWAY_URL };
  const used = new Set([c.COLLECT_GATEWAY ?? c.GATEWAY, c.FULFIL_GATEWAY ?? c.GATEWAY, c.SMS_GATEWAY ?? c.GATEWAY]);
  const embeddedSandbox = [...used].some((g) => !urls[g]);
  if (c.NODE_ENV === 'production') {
    const problems = productionProblems(
      c,
      embeddedSandbox,
      [...used].map((g) => ({ name: g, url: urls[g] })),
    );
    if (problems.length) throw new ConfigError(`config: refusing to start in production:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}`).replace(/\/$/, ''),
    GATEWAY_WEBHOOK_SECRET: c.GATEWAY_WEBHOOK_SECRET ?? c.GATEWAY_SECRET,
    // Embedded, a demo should see an IPN retry within seconds: 1 minute becomes 0.6 s.
    SANDBOX_IPN_TIME_SCALE: c.SANDBOX_IPN_TIME_SCALE ?? (embeddedSandbox ? 0.01 : 1),
    embeddedSandbox,
    publicUrlFromEnv: c.PUBLIC_URL !== undefined,
    pagCurrencyFromEnv: cleaned.PAG_CURRENCY !== undefined,
  };
}
