// Starts the real service (real Redis, embedded sandbox over real HTTP) on a free port with
// its own REDIS_PREFIX, so test files can run in parallel against one Redis.
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { startService, type RunningService, type StartOptions } from '../../src/app.js';
import { TOKEN } from './api.js';

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
