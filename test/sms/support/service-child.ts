// The whole service in a process of its own, so a test can watch it from outside as a client
// would (latency, peak RSS) without the test's own work running on the same event loop.
// Prints {"url": …, "prefix": …} once listening. env: CHILD_ENV (JSON of extra config).
import { startService } from '../../../src/app.js';
import { testConfig } from '../../support/service.js';

const config = testConfig(JSON.parse(process.env.CHILD_ENV ?? '{}') as Record<string, string>);
const svc = await startService(config, { workers: false });
process.stdout.write(`${JSON.stringify({ url: svc.url, prefix: config.REDIS_PREFIX })}\n`);
process.once('SIGTERM', () => void svc.close().then(() => process.exit(0)));
