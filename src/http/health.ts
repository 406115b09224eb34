// Liveness, readiness and metrics. Readiness means Redis answers within a second and the
// process is not shutting down.
import type Router from '@koa/router';
import type { AppContext, ServiceModule } from '../app-context.js';

export const healthModule: ServiceModule = {
  name: 'health',
  routes(router: Router, app: AppContext) {
    router.get('/healthz', (ctx) => {
      ctx.body = { status: 'ok' };
    });
    router.get('/readyz', async (ctx) => {
      if (app.draining) {
        // First thing on SIGTERM: load balancers stop sending here while requests still work.
        ctx.status = 503;
        ctx.body = { status: 'shutting down' };
        return;
      }
      try {
        const pong = await Promise.race([app.redis.ping(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
        ctx.body = { status: 'ready', redis: pong };
      } catch (err) {
        ctx.status = 503;
        ctx.body = { status: 'not ready', redis: (err as Error).message };
      }
    });
    router.get('/metrics', async (ctx) => {
      await app.metrics.collect();
      ctx.body = await app.metrics.render();
      ctx.type = app.metrics.contentType;
    });
  },
};
