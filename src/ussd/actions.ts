// Named async effects that menu screens trigger (`type: action` in a menu file).
// The engine saves the session first and only then runs the action (DESIGN trap 4), racing it
// against USSD_DEADLINE_MS. The money-flows module replaces the placeholder handlers.
import type { Logger } from '../log.js';
import type { UserMessage } from '../gateway/types.js';

export type Lang = 'en' | 'sw';

export interface ActionContext {
  /** Action name as written in the menu file. */
  action: string;
  /** Static parameters from the menu file (e.g. { pay: 'checkout', biller: 'DSTV' }). */
  params: Record<string, string>;
  sessionId: string;
  menuId: string;
  serviceCode: string;
  /** Subscriber's phone in E.164 (+2547…). */
  phone: string;
  /** Aggregator's networkCode, when sent (63902 Safaricom, …). */
  networkCode?: string;
  lang: Lang;
  /** Validated inputs collected so far, by variable name (amounts in minor units, phones E.164). */
  values: Record<string, string>;
  /** Stable for this session and step: a retried request gets the same key. Use it as order id. */
  idempotencyKey: string;
  /** Aborted when the screen deadline passes. An action may keep going after it (in background). */
  signal: AbortSignal;
  logger: Logger;
  /** Run after the reply has been sent (e.g. an STK push must not arrive while the session is open). */
  afterReply(fn: () => Promise<void> | void): void;
}

export interface ActionResult {
  /** Key into the action screen's `on:` map; success, failure and processing always exist. */
  outcome: 'success' | 'failure' | 'processing' | (string & {});
  /** Variables for the next screen's text, e.g. { balance: '1,245.00', token: '1234-…' }. */
  vars?: Record<string, string>;
  /** A user-safe reason shown where the screen text has {reason}. */
  reason?: UserMessage;
}

export type ActionHandler = (ctx: ActionContext) => Promise<ActionResult>;

export class ActionRegistry {
  private readonly handlers = new Map<string, ActionHandler>();

  /** Registering a name again replaces the handler (placeholders are replaced this way). */
  register(name: string, handler: ActionHandler): void {
    this.handlers.set(name, handler);
  }

  get(name: string): ActionHandler | undefined {
    return this.handlers.get(name);
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  names(): string[] {
    return [...this.handlers.keys()];
  }
}
