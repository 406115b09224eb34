// Child process entry for the benchmark: runs one target (the real service, or the floor) and
// talks to the parent over IPC. Its stdout is /dev/null, so the service logs at its normal
// level (one pino line per hop is part of the real cost) without flooding the terminal.
//   argv: <service|compiled|floor> <redisUrl> <redisPrefix> <logLevel> [gatewayUrl]
// 'service' is the service from src/ as `npm start` runs it (TypeScript through tsx);
// 'compiled' is the build the production image runs (tsc output, read from BENCH_DIST), loaded
// here by path, so none of its modules pass through tsx's transform.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { startFloor } from './floor.js';

export type TargetKind = 'service' | 'compiled' | 'floor';

export type ToChild = { type: 'stats' } | { type: 'stop' };
export type FromChild =
  { type: 'ready'; url: string } | { type: 'stats'; rss: number; maxRss: number; cpuUserUs: number; cpuSystemUs: number } | { type: 'failed'; message: string };

const [kind, redisUrl, prefix, logLevel, gatewayUrl] = process.argv.slice(2) as [TargetKind, string, string, string, string?];

function send(m: FromChild): void {
  process.send?.(m);
}

async function start(): Promise<{ url: string; close(): Promise<void> }> {
  if (kind === 'floor') return startFloor(redisUrl, prefix);
  const from = kind === 'compiled' ? pathToFileURL(join(process.env.BENCH_DIST!, '/')).href : new URL('../../src/', import.meta.url).href;
  const { loadConfig } = (await import(new URL('config.js', from).href)) as typeof import('../../src/config.js');
  const { startService } = (await import(new URL('app.js', from).href)) as typeof import('../../src/app.js');
  // Only what the benchmark sets: a developer's GATEWAY_URL or PORT must not leak in. Both
  // service targets use the same sandbox gateway process (the hops measured move no money).
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: logLevel,
    ...(gatewayUrl ? { GATEWAY_URL: gatewayUrl } : {}),
  });
  return startService(config);
}

try {
  const target = await start();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    await target.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (m: ToChild) => {
    if (m.type === 'stats') {
      const cpu = process.cpuUsage();
      send({ type: 'stats', rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024, cpuUserUs: cpu.user, cpuSystemUs: cpu.system });
    } else if (m.type === 'stop') void stop();
  });
  // The parent died or hung up: never outlive it.
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => undefined); // the parent handles Ctrl-C and stops us in order
  send({ type: 'ready', url: target.url });
} catch (err) {
  send({ type: 'failed', message: (err as Error)?.message ?? String(err) });
  process.exit(1);
}
