// Starts the real service (real Redis, embedded sandbox over real HTTP) on a free port with
// its own REDIS_PREFIX, so test files can run in parallel against one Redis.
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { startService, type RunningService, type StartOptions } from '../../src/app.js';
import { createKyandaGateway } from '../../src/gateway/kyanda/client.js';
import { TOKEN } from './api.js';
import { waitFor } from './wait.js';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_PREFIX: `t${randomUUID().slice(0, 8)}:`,
    API_TOKEN: TOKEN,
    ...env,
  });
}

export async function startTestService(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningService> {
  return startService(testConfig(env), opts);
}

/**
 * Start-up registers the IPN URL through the gateway (a money-class call it does not await):
 * a test that replaces or squeezes that gateway waits for it first, or the registration's
 * retries land inside the test's window.
 */
export async function ipnRegistered(svc: RunningService): Promise<void> {
  await waitFor(async () => (await svc.app.redis.get(svc.app.key('callback-url', 'kyanda'))) ?? undefined, {
    what: 'IPN URL registered',
    timeoutMs: 20000,
    everyMs: 20,
  });
}

/** Swaps the service's Kyanda gateway for one whose rate-limit "minute" lasts `windowMs`, so tests wait seconds. */
export async function withRateWindow(svc: RunningService, windowMs: number): Promise<void> {
  const minute = svc.app.gateways.sms;
  const fast = createKyandaGateway({ ...svc.app, rateWindowMs: windowMs }, `${svc.url}/sandbox`);
  svc.app.gateway = fast;
  svc.app.gateways.sms = fast;
  await minute.close();
}
