// Callbacks an action wants run only once the reply is on the wire (docs/architecture.md, rule 6: an STK push
// must not arrive while the USSD session is still open). Late registrations run immediately.
import type { Logger } from '../log.js';

export class AfterReply {
  private fns: Array<() => Promise<void> | void> = [];
  private sent = false;

  constructor(private readonly logger: Logger) {}

  add(fn: () => Promise<void> | void): void {
    if (this.sent) this.run(fn);
    else this.fns.push(fn);
  }

  /** Called once the response has been flushed. */
  flush(): void {
    if (this.sent) return;
    this.sent = true;
    const fns = this.fns;
    this.fns = [];
    for (const fn of fns) this.run(fn);
  }

  get pending(): number {
    return this.fns.length;
  }

  private run(fn: () => Promise<void> | void): void {
    setImmediate(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.logger.error({ err: (err as Error)?.message ?? String(err) }, 'afterReply callback failed'));
    });
  }
}
