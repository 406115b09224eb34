// `npm run worker`: only the background workers (BullMQ jobs, reconciliation), no HTTP.
// Without GATEWAY_URL it talks to the embedded sandbox of the service at PUBLIC_URL.
import { loadConfig } from './config.js';
import { startService } from './app.js';

const config = loadConfig();
const service = await startService(config, { http: false, workers: true });
const stop = async () => {
  await service.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
