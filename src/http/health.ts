// Liveness, readiness and metrics. Readiness means Redis answers within a second.
import type Router from '@koa/router';
import type { AppContext, ServiceModule } from '../app-context.js';

export const healthModule: ServiceModule = {
  name: 'health',
  routes(router: Router, app: AppContext) {
    router.get('/healthz', (ctx) => {
      ctx.body = { status: 'ok' };
    });
    router.get('/readyz', async (ctx) => {
      try {
        const pong = await Promise.race([
          app.redis.ping(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000)),
        ]);
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
