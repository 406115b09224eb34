// What the operator CLIs (agents, orders) share: config, a Redis connection that waits for
// Redis rather than failing at once, REDIS_PREFIX keys, and a clean exit with main's code.
import { loadConfig } from '../../src/config.js';
import { createRedis } from '../../src/redis.js';

export const config = loadConfig();
export const redis = createRedis(config.REDIS_URL, { enableOfflineQueue: true });
export const key = (...p: string[]) => config.REDIS_PREFIX + p.join(':');

/** Runs main, prints a failure as one line (exit 1), closes Redis and exits with main's code. */
export async function runCli(main: () => Promise<number>): Promise<never> {
  const code = await main().catch((err: unknown) => {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  });
  await redis.quit().catch(() => redis.disconnect());
  process.exit(code);
}
