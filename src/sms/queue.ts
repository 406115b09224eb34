// The bulk SMS queue: one job per batch, job id derived from (bulk id, batch number) so adding a
// batch twice is a no-op. BullMQ 6 refuses ":" in custom ids (it reserves it for repeatable
// jobs), hence "<bulkId>-<n>" rather than "<bulkId>:<n>".
import { Queue } from 'bullmq';
import type { AppContext } from '../app-context.js';

/** The gateway accepts at most 1,000 numbers per bulk request (docs/gateways.md, "Limits"). */
export const BULK_BATCH_SIZE = 1000;
export const QUEUE_NAME = 'sms-bulk';

export interface BatchJobData {
  bulkId: string;
  batchNo: number;
}

export function batchJobId(bulkId: string, batchNo: number): string {
  return `${bulkId}-${batchNo}`;
}

export function createBulkQueue(app: Pick<AppContext, 'config' | 'queueConnection' | 'queuePrefix'>): Queue<BatchJobData> {
  const c = app.config;
  return new Queue<BatchJobData>(QUEUE_NAME, {
    connection: app.queueConnection('producer'),
    prefix: app.queuePrefix,
    defaultJobOptions: {
      attempts: c.SMS_BATCH_ATTEMPTS,
      backoff: { type: 'exponential', delay: c.SMS_RETRY_BASE_MS },
      removeOnComplete: { age: c.SMS_BULK_TTL_S },
      removeOnFail: { age: c.SMS_BULK_TTL_S },
    },
  });
}
