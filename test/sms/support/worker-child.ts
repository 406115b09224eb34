// A bulk SMS worker in its own process, so a test can SIGKILL it mid-campaign.
// env: CHILD_PREFIX (the parent's REDIS_PREFIX), CHILD_GATEWAY (the parent's sandbox URL).
import { startService } from '../../../src/app.js';
import { smsModule } from '../../../src/sms/module.js';
import { testConfig } from '../../support/service.js';

const config = testConfig({
  REDIS_PREFIX: process.env.CHILD_PREFIX!,
  GATEWAY_URL: process.env.CHILD_GATEWAY!,
  SMS_SENDER_CONCURRENCY: '1',
  SMS_JOB_LOCK_MS: '1500',
});
await startService(config, { http: false, workers: true, modules: [smsModule()] });
process.stdout.write('ready\n');
