// STUB (issue 5): OTP and bulk SMS routes and workers.
import type { ServiceModule } from '../app-context.js';

export function smsModule(): ServiceModule {
  return { name: 'sms' };
}
