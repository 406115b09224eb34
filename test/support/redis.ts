// One Redis connection for a test file's gateway clients and checks (the test runner's private
// Redis, REDIS_URL), made on first use; closed by the file when it is done.
import { createRedis, waitReady, type Redis } from '../../src/redis.js';

let shared: Redis | undefined;

export async function sharedRedis(): Promise<Redis> {
  if (!shared) {
    shared = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await waitReady(shared);
  }
  return shared;
}

export async function closeSharedRedis(): Promise<void> {
  await shared?.quit().catch(() => undefined);
  shared = undefined;
}
