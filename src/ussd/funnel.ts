// Drop-off analytics: per service code, screen and day, how many sessions arrived on a screen
// (entered), ended there with our END (completed), were ended there by the network or the
// subscriber (dropped), were given up there for slowness (timedOut), or failed there (errors).
// docs/channels.md ("Funnel") says which signal feeds which count.
//
// Counting is on the hop's path, so it costs a Map update: counts are summed in memory per
// (code, screen, event) and added to Redis every FUNNEL_FLUSH_MS in one MULTI (HINCRBY per
// cell), and at shutdown. Redis keeps one hash per service code and day,
// `funnel:<code>:<YYYY-MM-DD>`, field `<screen>|<event>`, expiring FUNNEL_RETENTION_DAYS after
// its day ends. Memory is bounded by construction: codes and screens are those of the loaded
// menus (anything else counts under screen "-"), so a day's hash holds at most
// 5 × (screens + 1) fields, and the process holds at most that many cells per menu.
import type { AppContext } from '../app-context.js';
import { keyNames, type KeyNames } from '../keys.js';
import type { CompiledMenu } from '../menus/types.js';

export const FUNNEL_EVENTS = ['entered', 'completed', 'dropped', 'timedOut', 'errors'] as const;
export type FunnelEvent = (typeof FUNNEL_EVENTS)[number];

export type FunnelRow = { screen: string } & Record<FunnelEvent, number>;

const DAY_MS = 86_400_000;

interface Cell {
  code: string;
  screen: string;
  event: FunnelEvent;
  prom: (by?: number) => void;
  /** Counted but not yet in Redis, for day `day`. */
  pending: number;
  day: number;
}

/** A day number (days since the epoch at FUNNEL_UTC_OFFSET_MIN) as YYYY-MM-DD. */
export function dayName(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** YYYY-MM-DD → day number, or undefined when it is not a real date. */
export function dayNumber(name: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(name)) return undefined;
  const t = Date.parse(`${name}T00:00:00Z`);
  if (!Number.isFinite(t) || dayName(t / DAY_MS) !== name) return undefined;
  return t / DAY_MS;
}

const EVENT_INDEX: Record<FunnelEvent, number> = { entered: 0, completed: 1, dropped: 2, timedOut: 3, errors: 4 };

/** What Funnel uses of the application context (and nothing else of it). */
type FunnelDeps = Pick<AppContext, 'config' | 'key' | 'logger' | 'metrics' | 'redis'>;

export class Funnel {
  /** code → screen → one cell per event (in FUNNEL_EVENTS order): two lookups per count, no key to build. */
  private readonly cells = new Map<string, Map<string, Array<Cell | undefined>>>();
  /** Counts of a cell's earlier day, waiting for the next flush (a day boundary passed). */
  private spill: Array<{ cell: Cell; day: number; n: number }> = [];
  private readonly offsetMs: number;
  private readonly names: KeyNames['funnel'];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly app: FunnelDeps,
    private readonly menus: (code: string) => CompiledMenu | undefined,
  ) {
    this.names = keyNames(app.key).funnel;
    this.offsetMs = app.config.FUNNEL_UTC_OFFSET_MIN * 60_000;
  }

  /** Today's day number at FUNNEL_UTC_OFFSET_MIN. */
  today(now = Date.now()): number {
    return Math.floor((now + this.offsetMs) / DAY_MS);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.app.config.FUNNEL_FLUSH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** One event of a session on `screen` of the menu answering `code` (a code without "*" and "#"). */
  count(code: string, screen: string, event: FunnelEvent, n = 1): void {
    let cell = this.cells.get(code)?.get(screen)?.[EVENT_INDEX[event]];
    if (!cell) {
      const menu = this.menus(code);
      if (!menu) return; // no menu answers it: nothing to attribute to
      // Only the menu's own screens get a cell of their own: the number of cells stays bounded.
      if (screen !== '-' && !menu.screens.has(screen)) return this.count(code, '-', event, n);
      cell = {
        code,
        screen,
        event,
        pending: 0,
        day: this.today(),
        prom: this.app.metrics.counter('ussd_funnel_total', { service_code: code, screen, event }, 'USSD sessions per service code, screen and funnel event'),
      };
      let screens = this.cells.get(code);
      if (!screens) this.cells.set(code, (screens = new Map()));
      let events = screens.get(screen);
      if (!events) screens.set(screen, (events = FUNNEL_EVENTS.map(() => undefined)));
      events[EVENT_INDEX[event]] = cell;
    }
    const day = this.today();
    if (cell.day !== day) {
      if (cell.pending > 0) this.spill.push({ cell, day: cell.day, n: cell.pending });
      cell.pending = 0;
      cell.day = day;
    }
    cell.pending += n;
    cell.prom(n);
  }

  /** Adds what was counted to Redis (one MULTI); on failure the counts wait for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch: Array<{ cell: Cell; day: number; n: number }> = this.spill;
    this.spill = [];
    for (const screens of this.cells.values()) {
      for (const events of screens.values()) {
        for (const cell of events) {
          if (cell && cell.pending > 0) {
            batch.push({ cell, day: cell.day, n: cell.pending });
            cell.pending = 0;
          }
        }
      }
    }
    if (batch.length === 0) return;
    const retention = this.app.config.FUNNEL_RETENTION_DAYS;
    const multi = this.app.redis.multi();
    const expiring = new Map<string, number>();
    for (const { cell, day, n } of batch) {
      const key = this.key(cell.code, day);
      multi.hincrby(key, `${cell.screen}|${cell.event}`, n);
      // The day's hash goes `retention` days after its day ends (in the funnel's own time zone).
      expiring.set(key, Math.ceil(((day + 1 + retention) * DAY_MS - this.offsetMs) / 1000));
    }
    for (const [key, at] of expiring) multi.expireat(key, at);
    try {
      await multi.exec();
    } catch (err) {
      // Analytics, not money: the counts wait for the next flush (an answer lost after Redis
      // applied them would count them twice; a crash before then loses them).
      this.putBack(batch);
      this.app.logger.warn({ err: (err as Error).message, cells: batch.length }, 'funnel counts not written; retrying at the next flush');
    }
  }

  /** Unwritten counts go back where they came from, merged, so a long Redis outage holds one number per cell and day, not one per failed flush. */
  private putBack(batch: Array<{ cell: Cell; day: number; n: number }>): void {
    for (const e of batch) {
      if (e.day === e.cell.day) {
        e.cell.pending += e.n;
        continue;
      }
      const same = this.spill.find((x) => x.cell === e.cell && x.day === e.day);
      if (same) same.n += e.n;
      else this.spill.push(e);
    }
  }

  private key(code: string, day: number): string {
    return this.names.day(code, dayName(day));
  }

  /** The counts of `menu` summed over days [from, to], one row per screen in menu order. */
  async query(menu: CompiledMenu, code: string, from: number, to: number): Promise<FunnelRow[]> {
    await this.flush(); // this process's latest counts first
    const multi = this.app.redis.multi();
    for (let d = from; d <= to; d++) multi.hgetall(this.key(code, d));
    const days = (await multi.exec()) ?? [];
    const sums = new Map<string, Record<string, number>>();
    for (const [err, fields] of days) {
      if (err) throw err;
      for (const [f, v] of Object.entries((fields ?? {}) as Record<string, string>)) {
        const bar = f.lastIndexOf('|');
        const screen = f.slice(0, bar);
        const event = f.slice(bar + 1);
        const row = sums.get(screen) ?? {};
        row[event] = (row[event] ?? 0) + Number(v);
        sums.set(screen, row);
      }
    }
    const rows: FunnelRow[] = [];
    const row = (screen: string): FunnelRow => {
      const r = sums.get(screen) ?? {};
      return { screen, entered: r.entered ?? 0, completed: r.completed ?? 0, dropped: r.dropped ?? 0, timedOut: r.timedOut ?? 0, errors: r.errors ?? 0 };
    };
    // Every screen a subscriber can see, in the menu's order; an action screen (never shown)
    // and "-" (counts no screen could be named for) only when something happened there.
    for (const s of menu.screens.values()) if (s.kind !== 'action' || sums.has(s.id)) rows.push(row(s.id));
    if (sums.has('-')) rows.push(row('-'));
    return rows;
  }
}
