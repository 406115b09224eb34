// GET /api/menus (every menu served, as graphs) and POST /api/menus/reload (read MENUS_DIR
// again; 422 with the problems when the new set is refused, the old one serving on).
import type Router from '@koa/router';
import type { AppContext } from '../app-context.js';
import { screenLimits } from '../channels/index.js';
import { requireApiToken } from '../http/auth.js';
import { menuGraph } from '../menus/graph.js';
import { loadMenusReport, menuFilesIn } from '../menus/load.js';
import { MenuError, type CompiledMenu } from '../menus/types.js';
import { menuLoadOptions } from './menu-service.js';
import type { MenuService } from './menu-service.js';

export function menusRoutes(router: Router, app: Pick<AppContext, 'config'>, service: () => MenuService): void {
  const auth = requireApiToken(app.config);

  router.get('/api/menus', auth, (ctx) => {
    const s = service();
    const limits = screenLimits(app.config);
    if (ctx.query.source === 'files') {
      // What MENUS_DIR holds now, drawn even when it would be refused, with every problem.
      let files: string[] = [];
      let problems: string[];
      let menus: CompiledMenu[] = [];
      try {
        files = menuFilesIn(app.config.MENUS_DIR);
        ({ menus, problems } = loadMenusReport(files, menuLoadOptions(app.config)));
      } catch (err) {
        if (!(err instanceof MenuError)) throw err;
        problems = err.problems;
      }
      ctx.body = { source: 'files', languages: app.config.USSD_LANGUAGES, limits, problems, menus: menus.map((m) => menuGraph(m, limits)) };
      return;
    }
    ctx.body = {
      loadedAt: s.loadedAt,
      languages: app.config.USSD_LANGUAGES,
      limits,
      ...(s.last && !s.last.ok ? { lastReload: s.last } : {}),
      menus: s.current().map((m) => menuGraph(m, limits)),
    };
  });

  router.post('/api/menus/reload', auth, async (ctx) => {
    const r = await service().reload('POST /api/menus/reload');
    ctx.status = r.ok ? 200 : 422;
    ctx.body = r.ok ? r : { error: 'MENUS_INVALID', message: 'the menus were not reloaded; the previous ones keep serving', ...r };
  });
}
