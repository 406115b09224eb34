// Named async effects that menu screens trigger (`type: action` in a menu file).
// The engine saves the session first and only then runs the action (docs/architecture.md, rule 4), racing it
// against USSD_DEADLINE_MS. The money-flows module replaces the placeholder handlers.
//
// Commit point: an action must not change anything for good once the subscriber has been told
// "try again" (src/ussd/hop-gate.ts). By default the engine commits just before it calls the
// handler. A handler registered with `commitsItself` calls ctx.commit() itself, right before
// its first lasting step (creating an order), so a slow check before it can still end in an
// honest "try again".
import type { Logger } from '../log.js';
import type { UserMessage } from '../gateway/types.js';
import type { Need } from './action-needs.js';

import type { Lang } from '../menus/types.js';
export type { Lang };

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
  /**
   * Call right before the first step that cannot be taken back. false: the subscriber was
   * already told to try again, so do nothing and return a failure. Always true for handlers
   * not registered with `commitsItself` (the engine committed for them).
   */
  commit(): boolean;
  /** Session instance: unique per session record, never reused even when the aggregator reuses sessionIds. */
  sessionInstance: string;
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

export interface ActionOptions {
  /** The handler calls ctx.commit() itself before its first lasting step. */
  commitsItself?: boolean;
  /** What the action needs from the gateway roles, given a screen's params (checked at start-up). */
  needs?: (params: Record<string, string>) => Need[];
  /** The session variables it reads, given a screen's params: each must be set on every way to its screen. */
  vars?: (params: Record<string, string>) => string[];
  /**
   * The handler serves subscribers of every country PHONE_COUNTRIES admits. Without it the
   * engine refuses the action (a failure, before anything is committed) for any number that is
   * not Kenyan: every money step this service knows is KES through a Kenyan gateway.
   */
  anyCountry?: boolean;
}

export class ActionRegistry {
  private readonly handlers = new Map<string, ActionHandler>();
  private readonly selfCommitting = new Set<string>();
  private readonly needsFor = new Map<string, (params: Record<string, string>) => Need[]>();
  private readonly international = new Set<string>();
  private readonly varsFor = new Map<string, (params: Record<string, string>) => string[]>();

  /** Registering a name again replaces the handler (placeholders are replaced this way). */
  register(name: string, handler: ActionHandler, opts: ActionOptions = {}): void {
    this.handlers.set(name, handler);
    if (opts.commitsItself) this.selfCommitting.add(name);
    else this.selfCommitting.delete(name);
    if (opts.needs) this.needsFor.set(name, opts.needs);
    else this.needsFor.delete(name);
    if (opts.anyCountry) this.international.add(name);
    else this.international.delete(name);
    if (opts.vars) this.varsFor.set(name, opts.vars);
    else this.varsFor.delete(name);
  }

  vars(name: string, params: Record<string, string>): string[] | undefined {
    return this.varsFor.get(name)?.(params);
  }

  needs(name: string, params: Record<string, string>): Need[] | undefined {
    return this.needsFor.get(name)?.(params);
  }

  servesAnyCountry(name: string): boolean {
    return this.international.has(name);
  }

  get(name: string): ActionHandler | undefined {
    return this.handlers.get(name);
  }

  commitsItself(name: string): boolean {
    return this.selfCommitting.has(name);
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  names(): string[] {
    return [...this.handlers.keys()];
  }
}
