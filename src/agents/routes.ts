// POST /api/agents/:phone/block {reason} and POST /api/agents/:phone/unblock (Bearer API token
// or a console session): an operator stops an agent's float sales, balance checks, PIN changes
// and activation at once, and lets them go on later with the same PIN.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AppContext } from '../app-context.js';
import { requireApiToken } from '../http/auth.js';
import { smallBody } from '../http/body.js';
import { maskPhone } from '../log.js';
import { readBody } from '../sms/read-body.js';
import type { AgentStore } from './store.js';

export function agentBlockRoutes(router: Router, app: Pick<AppContext, 'config' | 'logger'>, agents: AgentStore): void {
  const auth = requireApiToken(app.config);
  const body = smallBody();

  router.post('/api/agents/:phone/block', auth, async (ctx: Context) => {
    if (!(await readBody(ctx, body))) return;
    const raw = (ctx.request as { body?: { reason?: unknown } }).body?.reason;
    const reason = typeof raw === 'string' ? raw.trim() : '';
    if (reason.length < 3 || reason.length > 200) {
      ctx.status = 400;
      ctx.body = { error: 'reason (3 to 200 characters) is required' };
      return;
    }
    const agent = await agents.block(String(ctx.params.phone), reason);
    if (!agent) {
      ctx.status = 404;
      ctx.body = { error: 'no such agent' };
      return;
    }
    app.logger.info({ phone: maskPhone(agent.phone), reason }, 'agent blocked by an operator');
    ctx.body = { agent };
  });

  router.post('/api/agents/:phone/unblock', auth, async (ctx: Context) => {
    const agent = await agents.unblock(String(ctx.params.phone));
    if (!agent) {
      ctx.status = 404;
      ctx.body = { error: 'no such agent' };
      return;
    }
    app.logger.info({ phone: maskPhone(agent.phone) }, 'agent unblocked by an operator');
    ctx.body = { agent };
  });
}
