// STUB (issue 4): money flows: actions, orders, IPN callbacks, workers, reconciliation.
import type { ServiceModule } from '../app-context.js';

export function paymentsModule(): ServiceModule {
  return { name: 'payments' };
}
