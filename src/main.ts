// `npm start`: the whole service (HTTP, embedded sandbox unless GATEWAY_URL, workers).
import { ConfigError, loadConfig } from './config.js';
import { startService } from './app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const service = await startService(config);
  const { logger } = service.app;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

main().catch((err) => {
  // Menu validation errors and the like: one clear message, non-zero exit, no half-started server.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
