// Two service instances on one Redis topology (one node, Sentinel or Cluster), sharing a
// REDIS_PREFIX and a sandbox gateway on its own HTTP server, as two replicas of a deployment
// behind a load balancer share Redis and the gateway. Used by the scale tests.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { start, type Svc } from '../payments/support.js';
import { startSandbox, type Sandbox } from '../support/sandbox.js';
import { sessionKeyBuilder } from '../../src/keys.js';
import { isClusterUrl } from '../../src/redis-url.js';
import { parsePhone } from '../../src/lib/phone.js';
import { sessionKeyOf } from '../../src/channels/index.js';

export interface Pair {
  sandbox: Sandbox;
  a: Svc;
  b: Svc;
  prefix: string;
  /** The session record's key, named as the service names it on this topology. */
  sessKey(sessionId: string, phone: string): string;
  close(): Promise<void>;
}

/** Settings both instances share (a shared OTP secret: a code sent by one is checked by the other). */
export const PAIR_ENV: Record<string, string> = {
  OTP_SECRET: 'scale-test-otp-secret-0123456789',
  OTP_MAX_PER_IP_PER_MIN: '1000',
  OTP_MAX_PER_MIN: '1000',
  GATEWAY_RATE_LIMIT_PER_MIN: '6000',
  SMS_RETRY_BASE_MS: '200',
  SMS_DUPLICATE_WINDOW_S: '0',
  // A command stuck on a dead node gives up well within the hop's deadline.
  REDIS_COMMAND_TIMEOUT_MS: '1000',
  PAYMENTS_JOB_LOCK_MS: '5000',
  SHUTDOWN_DRAIN_MS: '0',
  // The reconciler is the safety net for an IPN, or a queued step, lost in a failover: let it
  // run, and act on orders quiet for 5 s (the default, 120 s, is past the tests' 30 s to settle:
  // a checkout job whose write the killed master never passed on waited for it).
  RECONCILE_EVERY_S: '2',
  RECONCILE_AFTER_S: '5',
};

export async function startPair(redisUrl: string, env: Record<string, string> = {}): Promise<Pair> {
  const sandbox = await startSandbox({ SANDBOX_RATE_LIMIT_PER_MIN: '100000', SANDBOX_RATE_LIMIT_PER_DAY: '1000000' });
  const prefix = `s${randomUUID().slice(0, 8)}:`;
  const shared = { ...PAIR_ENV, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, GATEWAY_URL: sandbox.url, ...env };
  const a = await start(shared);
  const b = await start(shared);
  // The gateway keeps one IPN URL per merchant: instance a's (either could take them; a
  // deployment gives both the balancer's PUBLIC_URL).
  const reg = await a.svc.app.gateway.registerCallback(`${a.url}/callbacks/kyanda`);
  assert.equal(reg.kind, 'succeeded');
  const keys = sessionKeyBuilder(prefix, isClusterUrl(redisUrl));
  return {
    sandbox,
    a: { ...a, gw: sandbox.url },
    b: { ...b, gw: sandbox.url },
    prefix,
    sessKey: (sessionId, phone) => {
      const p = parsePhone(phone);
      assert.ok(p.ok);
      return keys(sessionKeyOf({ name: 'africastalking' }, sessionId), p.msisdn).sess;
    },
    async close() {
      // After a failover a client may keep reconnecting to the dead master: bound the close (the
      // real process is bounded by SHUTDOWN_TIMEOUT_S), then let the topology's stop end it.
      await Promise.race([Promise.allSettled([a.svc.close(), b.svc.close()]), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await sandbox.close();
    },
  };
}
