// Every environment variable the service reads, parsed and validated once.
// A bad value stops start-up with one line naming the variable (see loadConfig).
import { z } from 'zod';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { CHANNEL_NAMES, type ChannelName } from './channels/names.js';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** "a, b,c" → ['a','b','c'], each checked by `known`; the message names the offenders. */
function list<T extends string>(known: (v: string) => boolean, what: string, norm: (v: string) => string) {
  return z.string().transform((s, ctx): T[] => {
    const items = [...new Set(s.split(',').map((v) => norm(v.trim())).filter(Boolean))];
    const bad = items.filter((v) => !known(v));
    if (items.length === 0 || bad.length) {
      ctx.addIssue({ code: 'custom', message: items.length ? `unknown ${what}: ${bad.join(', ')}` : `lists no ${what}` });
      return z.NEVER;
    }
    return items as T[];
  });
}
const channelList = list<ChannelName>((v) => (CHANNEL_NAMES as readonly string[]).includes(v), `channel (known: ${CHANNEL_NAMES.join(', ')})`, (v) => v.toLowerCase());
const countryList = list<CountryCode>((v) => /^[A-Z]{2}$/.test(v) && isSupportedCountry(v), 'country code (ISO 3166, e.g. KE,GH,TZ)', (v) => v.toUpperCase());

const schema = z.object({
  // ── HTTP / process ────────────────────────────────────────────────
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_URL: z.string().url().optional(), // default derived from PORT below
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Start BullMQ workers inside the HTTP process (npm run worker runs them alone). */
  WORKERS: bool.default(true),

  // ── Redis ─────────────────────────────────────────────────────────
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every key we write; tests give each run its own. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('ussd:'),

  // ── USSD engine ───────────────────────────────────────────────────
  USSD_SERVICE_CODE: z.string().regex(/^\*[0-9*]+#$/, 'must look like *860*30#').default('*860*30#'),
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
  USSD_BACK_KEY: z.string().regex(/^[0-9*#]{1,3}$/).default('0'),
  USSD_HOME_KEY: z.string().regex(/^[0-9*#]{1,3}$/).default('00'),
  USSD_MORE_KEY: z.string().regex(/^[0-9*#]{1,3}$/).default('98'),

  // ── Payment gateway ───────────────────────────────────────────────
  GATEWAY: z.enum(['kyanda', 'pag']).default('kyanda'),
  GATEWAY_URL: z.string().url().optional(), // unset = embedded sandbox at /sandbox
  GATEWAY_API_KEY: z.string().min(1).default('sandbox-api-key'),
  GATEWAY_SECRET: z.string().min(1).default('sandbox-secret'),
  MERCHANT_ID: z.string().min(1).default('sandbox-merchant'),
  /** Secret that signs IPN/webhook bodies; defaults to GATEWAY_SECRET. */
  GATEWAY_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** The docs name the header "X-Kemru Technologies-Signature", which is not a legal header name. */
  GATEWAY_SIGNATURE_HEADER: z.string().regex(/^[A-Za-z0-9-]+$/).default('X-Kemru-Signature'),
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
  // ── PAG (Payment API Gateway 5.7.3, GATEWAY=pag) ──────────────────
  /** Merchant public id in the request path. */
  PAG_PUBLIC_ID: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).default('f54ec96649be11ebb3780242ac130002'),
  /**
   * provider_id sent with payments. Unset: 40 (the sandbox's completing provider) when the
   * sandbox is embedded, else 14 (the gateway's simulator, which never completes).
   */
  PAG_PROVIDER_ID: int(1, 100000).optional(),
  PAG_CURRENCY: z.enum(['KES', 'MWK', 'UGX', 'TZS', 'ZMW']).default('KES'),
  /** The OTP the PAG sandbox accepts in the multi-step (OTP) flow. */
  PAG_SANDBOX_OTP: z.string().regex(/^\d{4,8}$/).default('123456'),
  /** Biller codes for Kenya Power: the docs name none, so they are configuration. */
  BILLER_KPLC_PREPAID: z.string().default('KPLC_PREPAID'),
  BILLER_KPLC_POSTPAID: z.string().default('KPLC_POSTPAID'),

  // ── Embedded sandbox gateway ──────────────────────────────────────
  /** Multiplies the sandbox's IPN retry schedule (1 = documented 1m,5m,15m,1h,6h). */
  SANDBOX_IPN_TIME_SCALE: z.coerce.number().positive().max(1).optional(),
  SANDBOX_FLOAT_KES: int(0, 1_000_000_000).default(1_000_000),
  SANDBOX_CHECKOUT_DELAY_MS: int(0, 600000).default(1500),
  SANDBOX_RATE_LIMIT_PER_MIN: int(1, 1_000_000).default(6000),
  /** The same signed values again within this window → duplicate transmission (9005/8006). */
  SANDBOX_DUPLICATE_WINDOW_MS: int(0, 86_400_000).default(10_000),
  /** Checkouts from these phones fail: cancelled by the customer / insufficient M-PESA funds. */
  SANDBOX_CANCEL_PHONE: z.string().regex(/^0[17]\d{8}$/, 'must look like 0700000001').default('0700000001'),
  SANDBOX_NOFUNDS_PHONE: z.string().regex(/^0[17]\d{8}$/, 'must look like 0700000002').default('0700000002'),

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
}

export class ConfigError extends Error {}

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
  const embeddedSandbox = !c.GATEWAY_URL;
  return {
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}`).replace(/\/$/, ''),
    GATEWAY_WEBHOOK_SECRET: c.GATEWAY_WEBHOOK_SECRET ?? c.GATEWAY_SECRET,
    // Embedded, a demo should see an IPN retry within seconds: 1 minute becomes 0.6 s.
    SANDBOX_IPN_TIME_SCALE: c.SANDBOX_IPN_TIME_SCALE ?? (embeddedSandbox ? 0.01 : 1),
    embeddedSandbox,
    publicUrlFromEnv: c.PUBLIC_URL !== undefined,
  };
}
