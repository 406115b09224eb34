// STUB (issue 3): the Payment API Gateway 5.7.3 imitation, mounted by the sandbox module.
import type Router from '@koa/router';
import type { Config } from '../../../config.js';
import type { Logger } from '../../../log.js';
import type { LedgerEntry } from '../types.js';

export interface PagSandbox {
  /** Adds /{public_id}/payment_c2b|payment_b2c|status under `prefix` (e.g. "/sandbox/pag"). */
  routes(router: Router): void;
  /** POST /sandbox/_reset calls this. */
  reset(): void;
  /** Clears timers (service shutdown). */
  stop(): void;
}

export interface PagSandboxDeps {
  config: Config;
  logger: Logger;
  prefix: string;
  /** Appends to the shared /sandbox/_ledger. */
  record(entry: LedgerEntry): void;
}

export function createPagSandbox(_deps: PagSandboxDeps): PagSandbox {
  return { routes: () => undefined, reset: () => undefined, stop: () => undefined };
}
