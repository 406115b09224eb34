// STUB (issue 3): the embedded sandbox gateway, mounted at /sandbox.
import type { ServiceModule } from '../../app-context.js';

export function sandboxModule(): ServiceModule {
  return { name: 'sandbox' };
}
