// Money flows: the menu's money and agent actions, orders and their jobs, IPN callbacks,
// reconciliation, callback registration. Workers start only where workers are enabled.
import type { AppContext, ServiceModule } from '../app-context.js';
import { agentActions } from '../agents/actions.js';
import { AgentStore } from '../agents/store.js';
import { agentBlockRoutes } from '../agents/routes.js';
import { paymentActions } from './actions.js';
import { Payments } from './flows.js';
import { paymentRoutes } from './routes.js';
import { callbackRegistration } from './callback-registration.js';
import { ACTION_NEEDS, ACTION_VARS } from './needs.js';

const MONEY_ACTIONS = ['airtime', 'bundle', 'paybill', 'checkout'] as const;

export interface PaymentsHandle {
  payments: Payments;
  agents: AgentStore;
}

/** For tests and scripts: the module's objects by AppContext. */
export const paymentsOf = new WeakMap<AppContext, PaymentsHandle>();

export function paymentsModule(): ServiceModule {
  let payments: Payments | undefined;
  let agents: AgentStore | undefined;
  let registrations: Array<{ start(): void; stop(): void }> = [];

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
      for (const name of MONEY_ACTIONS) app.actions.register(name, money[name], { commitsItself: true, needs: ACTION_NEEDS[name], vars: ACTION_VARS[name] });
      app.actions.register('balance', money.balance, { needs: ACTION_NEEDS.balance, vars: ACTION_VARS.balance });
      for (const [name, fn] of Object.entries(agentActions(app, agents)))
        app.actions.register(name, fn, { needs: ACTION_NEEDS[name], vars: ACTION_VARS[name] });
      const p = payments;
      app.metrics.onCollect(async () => {
        app.metrics.set('orders_needing_attention', {}, await p.store.countIn('needs_attention'), 'Orders waiting for a person (needs_attention)');
        const counts = await p.jobs.queue.getJobCounts('waiting', 'delayed', 'active');
        for (const [state, n] of Object.entries(counts))
          app.metrics.set('payments_jobs', { state }, n, 'Payment jobs by state (delayed includes steps waiting for the gateway)');
        await p.gatewayWait.collect();
      });
    },
    routes(router, app) {
      paymentRoutes(router, app, payments!, agents!);
      agentBlockRoutes(router, app, agents!);
    },
    async start(app) {
      const p = payments!;
      p.jobs.start((job, token) => p.process(job, token));
      await p.jobs.queue.upsertJobScheduler('reconcile', { every: app.config.RECONCILE_EVERY_S * 1000 }, { name: 'reconcile', data: {} });
      // Gateways that take their IPN URL once (not with each request).
      registrations = app.gateways.all.filter((g) => g.capabilities.registersCallback).map((g) => callbackRegistration(app, g));
      for (const r of registrations) r.start();
    },
    async stop() {
      for (const r of registrations) r.stop();
      await payments?.jobs.close();
    },
  };
}
