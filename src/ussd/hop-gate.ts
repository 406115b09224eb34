// What the subscriber is told is what happens (docs/architecture.md, "The reply and the money").
//
// One gate per hop decides, once, between two things that race: the reply going out as a
// failure ("try again") because the hop missed its deadline, and the hop's action committing to
// something that cannot be taken back (an order created, a PIN changed, a code sent). Both
// sides call into the same object in the same process; JavaScript runs one of them first, so
// the check-and-set is atomic without a lock and without looking at clocks:
//   - fail() wins: the reply says "try again" and every later commit() answers false, so the
//     action stops before doing anything.
//   - commit() wins: the reply can no longer say "try again"; it says "you will receive an SMS"
//     (promiseSms) and the hop's real outcome is then sent by SMS once it is known (settle).
import type { SessionKeys } from './session-store.js';

export type GateState = 'open' | 'committed' | 'failed';

export class HopGate {
  /** The hop's session-lock token (set by the engine), so a failed hop's record can be closed. */
  token = '';
  /** The hop's session keys and request mark (set by the engine), for the same reason. */
  session?: { keys: SessionKeys; mark: string };
  private state: GateState = 'open';
  private promised = false;
  private settled = false;
  private outcome?: () => void;

  get current(): GateState {
    return this.state;
  }

  /** The action is about to do something for good: true unless the reply already said "try again". */
  commit(): boolean {
    if (this.state === 'failed') return false;
    this.state = 'committed';
    return true;
  }

  /** The reply is about to say "try again": true when nothing was committed, and nothing can be from now on. */
  fail(): boolean {
    if (this.state === 'committed') return false;
    this.state = 'failed';
    return true;
  }

  /** The reply told the subscriber an SMS will follow: the outcome goes by SMS once known. */
  promiseSms(): void {
    if (this.promised) return;
    this.promised = true;
    this.flush();
  }

  /** The hop's real outcome; `send` runs (once) if a reply promised an SMS, now or later. */
  settle(send: () => void): void {
    if (this.settled) return;
    this.settled = true;
    this.outcome = send;
    this.flush();
  }

  get smsPromised(): boolean {
    return this.promised;
  }

  private flush(): void {
    if (!this.promised || !this.outcome) return;
    const send = this.outcome;
    this.outcome = undefined;
    send();
  }
}
