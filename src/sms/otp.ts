// One-time codes. The code exists in clear only in this function's locals and in the SMS
// itself: Redis holds HMAC-SHA256(code) keyed with OTP_SECRET, logs never see it. Every state
// change is one Lua script, so two instances sharing Redis enforce the same tries, cooldowns
// and quotas.
import { createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AppContext, OtpService } from '../app-context.js';
import { maskPhone } from '../log.js';
import { parsePhone } from '../lib/phone.js';
import { OtpError } from './errors.js';
import { loadLua } from '../lib/lua.js';
import { undoWhenRedisAnswers } from '../lib/undo-when-redis-answers.js';
import { keyNames } from '../keys.js';

// The scripts (lua/otp-*.lua): a send takes every counter and stores the code at once; a
// verification takes a try before comparing, then consumes the code; a refused SMS cancels
// its send.
const SEND = loadLua(import.meta.url, 'otp-send');
const TAKE_TRY = loadLua(import.meta.url, 'otp-take-try');
const CONSUME = loadLua(import.meta.url, 'otp-consume');
const CANCEL = loadLua(import.meta.url, 'otp-cancel');

interface OtpRedis {
  otpSend(...args: (string | number)[]): Promise<[string, number, number?]>;
  otpTakeTry(key: string, maxTries: number): Promise<[string, string?, string?, number?]>;
  otpConsume(key: string, id: string): Promise<number>;
  otpCancel(...args: string[]): Promise<number>;
}

const PURPOSE = /^[A-Za-z0-9_.-]{1,32}$/;
/**
 * Purposes the service uses itself (agent activation and PIN reset): the HTTP API may neither
 * send nor verify them, and their codes, cooldowns and quotas live under otp:internal:…, a
 * namespace no API call can name.
 */
export const RESERVED_PURPOSE = /^agent-/i;

const QUOTA_ERRORS: Record<string, { code: 'PHONE_QUOTA' | 'IP_QUOTA' | 'IP_RATE' | 'GLOBAL_RATE'; message: string } | undefined> = {
  quota_phone: { code: 'PHONE_QUOTA', message: 'too many codes requested for this number this hour' },
  quota_ip: { code: 'IP_QUOTA', message: 'too many codes requested by this client this hour' },
  rate_ip: { code: 'IP_RATE', message: 'too many codes requested by this client this minute' },
  rate_global: { code: 'GLOBAL_RATE', message: 'the service is sending too many codes right now; try again shortly' },
};

export type VerifyResult = { valid: true } | { valid: false; reason: 'wrong_code' | 'expired' | 'too_many_tries'; triesLeft?: number };

export function createOtpService(
  app: Pick<AppContext, 'config' | 'gateways' | 'key' | 'logger' | 'metrics' | 'redis'>,
): OtpService & { verify(phone: string, purpose: string, code: string, opts?: { internal?: boolean }): Promise<VerifyResult> } {
  const c = app.config;
  let secret: Buffer | string | undefined = c.OTP_SECRET;
  if (!secret) {
    secret = randomBytes(32);
    app.logger.warn('OTP_SECRET is unset: using a random per-process secret; codes will not verify on other instances or after a restart');
  }
  const r = app.redis as unknown as OtpRedis & AppContext['redis'];
  r.defineCommand('otpSend', { numberOfKeys: SEND.numberOfKeys, lua: SEND.source });
  r.defineCommand('otpTakeTry', { numberOfKeys: TAKE_TRY.numberOfKeys, lua: TAKE_TRY.source });
  r.defineCommand('otpConsume', { numberOfKeys: CONSUME.numberOfKeys, lua: CONSUME.source });
  r.defineCommand('otpCancel', { numberOfKeys: CANCEL.numberOfKeys, lua: CANCEL.source });

  const hmac = (code: string) => createHmac('sha256', secret).update(code).digest('hex');
  const names = keyNames(app.key).otp;
  const keys = (msisdn: string, purpose: string, internal: boolean) => ({
    code: names.code(purpose, msisdn, internal),
    cooldown: names.cooldown(purpose, msisdn, internal),
    resends: names.sends(purpose, msisdn, internal),
    phoneQuota: names.phoneQuota(msisdn, internal),
  });

  function normalize(phone: string, purpose: string, internal: boolean) {
    if (typeof purpose !== 'string' || !PURPOSE.test(purpose)) throw new OtpError('BAD_PURPOSE', 'purpose must be 1-32 letters, digits, _ . -', 400);
    if (RESERVED_PURPOSE.test(purpose) && !internal)
      throw new OtpError('RESERVED_PURPOSE', 'purposes starting with "agent-" are reserved for the service itself', 400);
    const p = parsePhone(phone);
    if (!p.ok) throw new OtpError('BAD_PHONE', `invalid phone: ${p.reason}`, 400);
    return p;
  }

  /** One verification: take a try atomically, compare in constant time, consume on success. */
  async function verifyOnce(codeKey: string, candidate: string, log: Record<string, string>): Promise<VerifyResult> {
    const [state, stored, id, used] = await r.otpTakeTry(codeKey, c.OTP_MAX_TRIES);
    if (state === 'none') return { valid: false, reason: 'expired' };
    if (state === 'locked') return { valid: false, reason: 'too_many_tries' };
    // HMAC both sides: equal-length buffers for timingSafeEqual whatever was typed.
    const ok = timingSafeEqual(Buffer.from(hmac(candidate), 'hex'), Buffer.from(stored!, 'hex'));
    if (ok && (await r.otpConsume(codeKey, id!)) === 1) {
      app.logger.info({ ...log, id }, 'otp verified');
      return { valid: true };
    }
    if (ok) return { valid: false, reason: 'expired' }; // a concurrent verify used it first
    const triesLeft = Math.max(0, c.OTP_MAX_TRIES - Number(used));
    app.logger.info({ ...log, id, triesLeft }, 'otp wrong code');
    return triesLeft === 0 ? { valid: false, reason: 'too_many_tries', triesLeft: 0 } : { valid: false, reason: 'wrong_code', triesLeft };
  }

  return {
    async send(phone, purpose, opts = {}) {
      const internal = opts.internal === true;
      const p = normalize(phone, purpose, internal);
      const k = keys(p.msisdn, purpose, internal);
      const code = String(randomInt(0, 10 ** c.OTP_LENGTH)).padStart(c.OTP_LENGTH, '0');
      const id = randomUUID();
      // Per-client and service-wide caps are for the HTTP API; the service's own codes (agents)
      // are few, and a flood of API requests must not lock agents out of theirs.
      const ipHour = !internal && opts.ip ? names.ipQuota(opts.ip) : '';
      const ipMinute = !internal && opts.ip ? names.ipRate(opts.ip) : '';
      const global = internal ? '' : names.globalRate();
      const counters = [k.resends, k.phoneQuota, ipHour, ipMinute, global];
      let res: Awaited<ReturnType<typeof r.otpSend>>;
      try {
        res = await r.otpSend(
          k.code,
          k.cooldown,
          k.resends,
          k.phoneQuota,
          ipHour,
          ipMinute,
          global,
          hmac(code),
          id,
          c.OTP_TTL_S * 1000,
          c.OTP_RESEND_COOLDOWN_S * 1000,
          c.OTP_MAX_PER_PHONE_PER_HOUR,
          c.OTP_MAX_PER_IP_PER_HOUR,
          c.OTP_MAX_PER_IP_PER_MIN,
          c.OTP_MAX_PER_MIN,
        );
      } catch (err) {
        // No answer is not "not sent": the script may run once Redis wakes, holding a cooldown
        // and quota slots for a code no SMS carries, and the client's retry would get COOLDOWN.
        undoWhenRedisAnswers(() => r.otpCancel(k.code, k.cooldown, ...counters, id, '1'), c.OTP_TTL_S * 1000);
        throw err;
      }
      const [verdict, a] = res;
      const log = { phone: maskPhone(p.msisdn), purpose };
      if (verdict !== 'ok') app.metrics.inc('otp_send_total', { result: verdict }, 1, 'OTP send requests by result');
      if (verdict === 'cooldown') {
        app.logger.info({ ...log, retryMs: a }, 'otp resend refused: cooldown');
        throw new OtpError('COOLDOWN', 'a code was sent recently; wait before asking again', 429, Math.ceil(Number(a) / 1000));
      }
      const refused = QUOTA_ERRORS[verdict];
      if (refused) {
        app.logger.warn({ ...log, quota: verdict, ...(opts.ip ? { ip: opts.ip } : {}) }, 'otp refused: quota');
        throw new OtpError(refused.code, refused.message, 429, Math.ceil(Math.max(1, Number(a)) / 1000));
      }
      const expiresAt = new Date(Number(a)).toISOString();
      const minutes = Math.max(1, Math.round(c.OTP_TTL_S / 60));
      const message = `Your verification code is ${code}. It expires in ${minutes} minute${minutes === 1 ? '' : 's'}. Do not share it.`;
      let result;
      try {
        result = await app.gateways.sms.sendSms({ phone: p.e164, message, otp: code }, { reference: `otp-${id}`, priority: 'otp' });
      } catch (err) {
        result = { kind: 'failed' as const, error: err as Error };
      }
      if (result.kind === 'failed') {
        await r.otpCancel(k.code, k.cooldown, ...counters, id, '0').catch(() => 0);
        app.metrics.inc('otp_send_total', { result: 'sms_failed' }, 1, 'OTP send requests by result');
        app.logger.warn({ ...log, id, err: result.error.message }, 'otp sms failed');
        throw new OtpError('SMS_FAILED', 'the code could not be sent; try again', 502);
      }
      // `unknown` (sent, no answer) keeps the code: the SMS may well arrive.
      app.logger.info({ ...log, id, outcome: result.kind }, 'otp sent');
      app.metrics.inc('otp_send_total', { result: 'ok' }, 1, 'OTP send requests by result');
      return { id, expiresAt };
    },

    async verify(phone, purpose, code, opts = {}): Promise<VerifyResult> {
      const internal = opts.internal === true;
      const p = normalize(phone, purpose, internal);
      const k = keys(p.msisdn, purpose, internal);
      const log = { phone: maskPhone(p.msisdn), purpose };
      const candidate = typeof code === 'string' ? code.trim() : '';
      const result = await verifyOnce(k.code, candidate, log);
      app.metrics.inc('otp_verify_total', { result: result.valid ? 'valid' : result.reason }, 1, 'OTP verifications by result');
      return result;
    },
  };
}
