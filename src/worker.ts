// `npm run worker`: only the background workers (BullMQ jobs, reconciliation), no HTTP.
// Without GATEWAY_URL it talks to the embedded sandbox of the service at PUBLIC_URL.
import { runProcess } from './process.js';

runProcess({ ROLE: 'worker' }).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
