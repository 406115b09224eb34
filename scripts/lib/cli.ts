// What the operator CLIs (agents, orders) share: config, a Redis connection that waits for
// Redis rather than failing at once, REDIS_PREFIX keys, and a clean exit with main's code.
import { loadConfig } from '../../src/config.js';
import { createRedis } from '../../src/redis.js';
import { keyBuilder } from '../../src/keys.js';
import { isClusterUrl } from '../../src/redis-url.js';

export const config = loadConfig();
export const redis = createRedis(config.REDIS_URL, { enableOfflineQueue: true });
/** The service's own key names (hash-tagged in a Cluster, as src/keys.ts names them). */
export const key = keyBuilder(config.REDIS_PREFIX, isClusterUrl(config.REDIS_URL));

/** Runs main, prints a failure as one line (exit 1), closes Redis and exits with main's code. */
export async function runCli(main: () => Promise<number>): Promise<never> {
  const code = await main().catch((err: unknown) => {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  });
  await redis.quit().catch(() => redis.disconnect());
  process.exit(code);
}
