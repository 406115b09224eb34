// offline_mode (docs/gateways.md, "Offline mode"): a money or SMS request carrying
// "offline_mode": true is always taken at once (200, status QUEUED), then tried: at once when
// the service is up, otherwise again after 1, 5, 15, 60 and 360 minutes (scaled by
// SANDBOX_IPN_TIME_SCALE) and at once when the service comes back. Each try runs the checks a
// direct request would have had; a rejection, or retries running out, ends in a Failed IPN
// (and a payment.failed event), as the documents say rejections are deferred to the callback.
import type { Logger } from '../../log.js';
import { RETRY_SCHEDULE_MS } from './ipn.js';
import type { Txn } from './transactions.js';

export interface OfflineDeps {
  timeScale: number;
  logger: Logger;
  /** The `down` fault. */
  isDown(): boolean;
  /** Checks and starts a queued transaction (or fails it with the code its check gave). */
  process(txn: Txn): void;
  /** Retries ran out while the service stayed down. */
  giveUp(txn: Txn): void;
}

export class OfflineQueue {
  private waiting = new Map<Txn, { timer?: NodeJS.Timeout; tries: number }>();

  constructor(private readonly deps: OfflineDeps) {}

  /** A newly queued transaction: first try on the next tick (after the QUEUED answer has gone). */
  add(txn: Txn): void {
    this.waiting.set(txn, { tries: 0 });
    this.schedule(txn, 0);
  }

  private schedule(txn: Txn, delayMs: number): void {
    const w = this.waiting.get(txn);
    if (!w) return;
    w.timer = setTimeout(() => this.attempt(txn), delayMs);
    w.timer.unref();
  }

  private attempt(txn: Txn): void {
    const w = this.waiting.get(txn);
    if (!w) return;
    w.tries++;
    (txn.ledger.attempts ??= []).push(new Date().toISOString());
    if (!this.deps.isDown()) {
      this.waiting.delete(txn);
      this.deps.process(txn);
      return;
    }
    const next = RETRY_SCHEDULE_MS[w.tries - 1];
    if (next === undefined) {
      this.waiting.delete(txn);
      this.deps.logger.info({ ref: txn.ref, tries: w.tries }, 'sandbox offline request gave up');
      this.deps.giveUp(txn);
      return;
    }
    this.schedule(txn, Math.max(1, Math.round(next * this.deps.timeScale)));
  }

  /** The service is back: every waiting request is tried now, in arrival order. */
  drain(): number {
    const txns = [...this.waiting.keys()];
    for (const txn of txns) {
      clearTimeout(this.waiting.get(txn)?.timer);
      this.attempt(txn);
    }
    return txns.length;
  }

  count(): number {
    return this.waiting.size;
  }

  reset(): void {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
  }
}
