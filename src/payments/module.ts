// Money flows: the menu's money and agent actions, orders and their jobs, IPN callbacks,
// reconciliation, callback registration. Workers start only where workers are enabled.
import type { AppContext, ServiceModule } from '../app-context.js';
import { agentActions } from '../agents/actions.js';
import { AgentStore } from '../agents/store.js';
import { paymentActions } from './actions.js';
import { Payments } from './flows.js';
import { paymentRoutes } from './routes.js';

const MONEY_ACTIONS = ['airtime', 'bundle', 'paybill', 'checkout'] as const;

export interface PaymentsHandle { payments: Payments; agents: AgentStore }

/** For tests and scripts: the module's objects by AppContext. */
export const paymentsOf = new WeakMap<AppContext, PaymentsHandle>();

export function paymentsModule(): ServiceModule {
  let payments: Payments | undefined;
  let agents: AgentStore | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function registerCallback(app: AppContext, attempt = 1): Promise<void> {
    if (stopped || app.config.GATEWAY !== 'kyanda') return; // PAG takes its callback URL per request
    const url = `${app.config.PUBLIC_URL}/callbacks/kyanda`;
    let failure: string | undefined;
    try {
      const r = await app.gateway.registerCallback(url);
      if (r.kind === 'failed' || r.kind === 'unknown') failure = `${r.error.code} ${r.error.message}`;
    } catch (err) {
      failure = (err as Error).message;
    }
    if (!failure) {
      app.logger.info({ url }, 'IPN callback URL registered');
      return;
    }
    const delay = Math.min(300_000, 2_000 * 2 ** Math.min(attempt - 1, 8));
    app.logger.warn({ url, attempt, retryInMs: delay, err: failure }, 'IPN callback registration failed; will retry');
    retryTimer = setTimeout(() => void registerCallback(app, attempt + 1), delay);
    retryTimer.unref();
  }

  return {
    name: 'payments',
    init(app) {
      const c = app.config;
      payments = new Payments(app);
      agents = new AgentStore(app.redis, app.key, { maxTries: c.AGENT_MAX_PIN_TRIES, lockS: c.AGENT_LOCK_S });
      paymentsOf.set(app, { payments, agents });
      const money = paymentActions(app, payments, agents);
      // Money actions pick their own commit point (just before the order is created), so a slow
      // PIN check can still end in an honest "try again" (src/ussd/hop-gate.ts).
      for (const name of MONEY_ACTIONS) app.actions.register(name, money[name], { commitsItself: true });
      app.actions.register('balance', money.balance);
      for (const [name, fn] of Object.entries(agentActions(app, agents))) app.actions.register(name, fn);
    },
    routes(router, app) {
      paymentRoutes(router, app, payments!, agents!);
    },
    async start(app) {
      const p = payments!;
      p.jobs.start((job) => p.process(job));
      await p.jobs.queue.upsertJobScheduler('reconcile', { every: app.config.RECONCILE_EVERY_S * 1000 }, { name: 'reconcile', data: {} });
      void registerCallback(app);
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      await payments?.jobs.close();
    },
  };
}
