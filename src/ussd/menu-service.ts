// The menus the engine serves, and their reloads. A reload (SIGHUP, POST /api/menus/reload, a
// file change under MENUS_WATCH) reads MENUS_DIR again and runs every check start-up runs
// (schema, references, screen limits of every enabled channel, gateway roles, the variables
// each action reads); only a set with no problem replaces the old one, which otherwise keeps
// serving. Sessions in flight finish on the version they began on (UssdEngine.setMenus).
import { watch, type FSWatcher } from 'node:fs';
import type { AppContext } from '../app-context.js';
import { screenLimits } from '../channels/index.js';
import type { Config } from '../config.js';
import { loadMenuDir, type LoadOptions } from '../menus/load.js';
import { MenuError, type CompiledMenu } from '../menus/types.js';
import { needsProblems, varProblems } from './action-needs.js';
import type { UssdEngine } from './engine.js';

export type ReloadResult =
  { ok: true; at: string; menus: Array<{ file: string; serviceCode: string; version: string }> } | { ok: false; at: string; problems: string[] };

/** How the service reads menus: its default code, keys, every enabled channel's limit, its languages. */
export function menuLoadOptions(c: Config): LoadOptions {
  return {
    defaultServiceCode: c.USSD_SERVICE_CODE,
    keys: { back: c.USSD_BACK_KEY, home: c.USSD_HOME_KEY, more: c.USSD_MORE_KEY },
    screenLimits: screenLimits(c),
    languages: c.USSD_LANGUAGES,
  };
}

/** Reads and checks MENUS_DIR: the menus, or MenuError with every problem. */
/** What reading and checking the menus uses of the application context. */
type MenuCheckDeps = Pick<AppContext, 'actions' | 'config' | 'gateways'>;

/** What MenuService uses of the application context (and nothing else of it). */
type MenuServiceDeps = MenuCheckDeps & Pick<AppContext, 'logger' | 'metrics'>;

export function loadCheckedMenus(app: MenuCheckDeps, opts: { roles: boolean }): CompiledMenu[] {
  const menus = loadMenuDir(app.config.MENUS_DIR, menuLoadOptions(app.config));
  if (opts.roles) {
    const problems = [...needsProblems(menus, (a, p) => app.actions.needs(a, p), app.gateways), ...varProblems(menus, (a, p) => app.actions.vars(a, p))];
    if (problems.length) throw new MenuError(problems);
  }
  return menus;
}

export class MenuService {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadResult> | undefined;
  /** The last reload's answer (a refused one keeps its problems here for the console). */
  last: ReloadResult | undefined;
  loadedAt = new Date().toISOString();

  constructor(
    private readonly app: MenuServiceDeps,
    private readonly engine: UssdEngine,
  ) {}

  current(): CompiledMenu[] {
    return this.engine.menus();
  }

  /** Reads MENUS_DIR again; serves the new set only if it passes every check. One at a time. */
  reload(why: string): Promise<ReloadResult> {
    this.running ??= this.doReload(why).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doReload(why: string): Promise<ReloadResult> {
    const at = new Date().toISOString();
    let menus: CompiledMenu[];
    try {
      menus = loadCheckedMenus(this.app, { roles: true });
    } catch (err) {
      if (!(err instanceof MenuError)) throw err;
      this.app.logger.error({ why, problems: err.problems }, 'menus reload refused; the previous menus keep serving');
      this.app.metrics.inc('ussd_menu_reloads_total', { result: 'refused' }, 1, 'Menu reloads, by result');
      this.last = { ok: false, at, problems: err.problems };
      return this.last;
    }
    this.engine.setMenus(menus);
    this.loadedAt = at;
    const list = menus.map((m) => ({ file: m.file, serviceCode: m.serviceCode, version: m.version }));
    this.app.logger.info({ why, menus: list.map((m) => `${m.file} ${m.serviceCode} v${m.version}`) }, 'menus reloaded');
    this.app.metrics.inc('ussd_menu_reloads_total', { result: 'ok' }, 1, 'Menu reloads, by result');
    this.last = { ok: true, at, menus: list };
    return this.last;
  }

  /** Reloads when a file in MENUS_DIR changes (editors write in bursts: 200 ms of quiet first). */
  watch(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.app.config.MENUS_DIR, { persistent: false }, (_event, name) => {
        if (name && !/\.ya?ml$/.test(String(name))) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload(`file changed: ${String(name ?? '?')}`), 200);
        this.timer.unref();
      });
      this.watcher.on('error', (err) => this.app.logger.warn({ err: err.message }, 'menus watch stopped'));
    } catch (err) {
      this.app.logger.warn({ err: (err as Error).message, dir: this.app.config.MENUS_DIR }, 'cannot watch the menus directory');
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
