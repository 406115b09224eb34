// What `npm start` and `npm run worker` share: start the service in its role and stop it
// gracefully. SIGTERM (an orchestrator, a rolling deploy): /readyz turns 503, SHUTDOWN_DRAIN_MS
// later the listener closes, requests in flight are answered, workers finish their running
// jobs, Redis connections close; whatever is still running at SHUTDOWN_TIMEOUT_S is cut off
// (exit 1): a job cut off keeps its BullMQ lock until it expires, and then another worker takes
// it over, so no job is lost and none runs twice at once. SIGINT (a person at a terminal) skips
// the drain wait.
import { ConfigError, loadConfig, type Config } from './config.js';
import { startService } from './app.js';

export async function runProcess(overrides: Partial<Pick<Config, 'ROLE'>> = {}): Promise<void> {
  let config: Config;
  try {
    config = { ...loadConfig(), ...overrides };
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
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.info({ signal, role: config.ROLE, timeoutS: config.SHUTDOWN_TIMEOUT_S }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ afterMs: Date.now() - started }, 'shutdown timed out: exiting with work still running (its jobs are handed back when their locks expire)');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_S * 1000);
    force.unref();
    // The drain wait never eats the whole budget: at most half of it.
    const drainMs = signal === 'SIGTERM' ? Math.min(config.SHUTDOWN_DRAIN_MS, config.SHUTDOWN_TIMEOUT_S * 500) : 0;
    try {
      await service.close({ drainMs });
    } catch (err) {
      console.error('shutdown failed', err);
      process.exit(1);
    }
    // The logger is flushed by close(); this line goes straight to stdout.
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'stopped', afterMs: Date.now() - started })}\n`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}
