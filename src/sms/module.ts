// The SMS module: one-time codes (app.otp, /api/otp) and bulk SMS in 1,000-number batches
// (/api/sms/bulk, a BullMQ worker), plus delivery reports (/callbacks/sms-dlr).
import type { Queue, Worker } from 'bullmq';
import type { AppContext, ServiceModule } from '../app-context.js';
import { BulkGuard } from './bulk-guard.js';
import { BulkStore } from './bulk-store.js';
import { createBulkWorker } from './bulk-worker.js';
import { createBulkQueue, type BatchJobData } from './queue.js';
import { smsRoutes } from './routes.js';
import { smsNotices } from './notices.js';

export function smsModule(): ServiceModule {
  let store: BulkStore | undefined;
  let guard: BulkGuard | undefined;
  let queue: Queue<BatchJobData> | undefined;
  let worker: Worker<BatchJobData> | undefined;
  return {
    name: 'sms',
    init(app: AppContext) {
      store = new BulkStore(app);
      app.smsNotices = smsNotices(app, store);
      guard = new BulkGuard(app);
      queue = createBulkQueue(app);
      queue.on('error', (err) => app.logger.warn({ err: err.message }, 'sms queue error'));
      const q = queue;
      // The backlog is the queue's, whichever instance sends it: read at each scrape.
      app.metrics.onCollect(async () => {
        const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
        for (const [state, n] of Object.entries(counts)) {
          app.metrics.set(
            'sms_bulk_backlog_batches',
            { state },
            n,
            'Bulk SMS batches not yet sent, by queue state (delayed includes batches waiting for a rate-limit slot)',
          );
        }
      });
    },
    routes(router, app) {
      smsRoutes(router, app, { otp: app.otp, store: store!, queue: queue!, guard: guard! });
    },
    start(app) {
      worker = createBulkWorker(app, store!, queue!);
    },
    async stop() {
      await worker?.close();
      await queue?.close();
    },
  };
}
