// GET /api/ussd/funnel?serviceCode=…&from=YYYY-MM-DD&to=YYYY-MM-DD (Bearer API token):
// the funnel of one menu over a range of days, { serviceCode, from, to, screens: [...] }.
import type Router from '@koa/router';
import type { AppContext } from '../app-context.js';
import { requireApiToken } from '../http/auth.js';
import type { UssdEngine } from './engine.js';
import { dayName, dayNumber, type Funnel } from './funnel.js';

export function funnelRoute(router: Router, app: Pick<AppContext, 'config'>, engine: () => UssdEngine, funnel: () => Funnel): void {
  router.get('/api/ussd/funnel', requireApiToken(app.config), async (ctx) => {
    const q = ctx.query;
    const bad = (error: string, status = 400) => {
      ctx.status = status;
      ctx.body = { error };
    };
    const code = typeof q.serviceCode === 'string' ? q.serviceCode : '';
    if (!code.trim()) return bad('serviceCode is required');
    const eng = engine();
    const menu = eng.menuByCode(code);
    if (!menu) return bad(`no menu answers service code ${code.slice(0, 40)}`, 404);
    const f = funnel();
    const today = dayName(f.today());
    // Both default to today (in the funnel's time zone); `from` alone means that one day.
    const to = typeof q.to === 'string' ? q.to : typeof q.from === 'string' ? q.from : today;
    const from = typeof q.from === 'string' ? q.from : to;
    const fromDay = dayNumber(from);
    const toDay = dayNumber(to);
    if (fromDay === undefined) return bad('from must be a date YYYY-MM-DD');
    if (toDay === undefined) return bad('to must be a date YYYY-MM-DD');
    if (fromDay > toDay) return bad('from is after to');
    const retention = app.config.FUNNEL_RETENTION_DAYS;
    if (toDay - fromDay + 1 > retention) return bad(`at most ${retention} days (FUNNEL_RETENTION_DAYS) at once`);
    ctx.body = { serviceCode: menu.serviceCode, from, to, screens: await f.query(menu, eng.codeOf(menu), fromDay, toDay) };
  });
}
