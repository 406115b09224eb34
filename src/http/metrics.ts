// A minimal Prometheus text-format registry: counters, gauges and histograms with labels.
// Enough for /metrics without a dependency; modules call inc()/set()/observe(), and register
// collectors for gauges read from elsewhere at scrape time (onCollect).

type Labels = Record<string, string>;
const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

const UNSAFE = /["\\\n]/;
const UNSAFE_ALL = /["\\\n]/g;

/** The series key: labels in name order, values made safe. Called on every USSD hop, so no sort or regex replace unless needed. */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let key = '';
  for (const k of names) {
    const v = labels[k]!;
    key += `${key ? ',' : ''}${k}="${UNSAFE.test(v) ? v.replace(UNSAFE_ALL, '_') : v}"`;
  }
  return key;
}

interface Histogram { buckets: number[]; sum: number; count: number }

function record(h: Histogram, valueMs: number): void {
  for (let i = 0; i < BUCKETS_MS.length; i++) if (valueMs <= BUCKETS_MS[i]!) h.buckets[i]!++;
  h.sum += valueMs;
  h.count++;
}

export class Metrics {
  private counters = new Map<string, Map<string, number>>();
  private histos = new Map<string, Map<string, Histogram>>();
  private gauges = new Map<string, Map<string, number>>();
  private help = new Map<string, string>();
  private collectors: Array<() => Promise<void>> = [];

  /** A gauge: a value that goes up and down (a backlog), set rather than added to. */
  set(name: string, labels: Labels, value: number, help?: string): void {
    if (help) this.help.set(name, help);
    let series = this.gauges.get(name);
    if (!series) this.gauges.set(name, (series = new Map()));
    series.set(labelKey(labels), value);
  }

  /** `fn` refreshes gauges that must be read from elsewhere (Redis) just before a scrape. */
  onCollect(fn: () => Promise<void>): void {
    this.collectors.push(fn);
  }

  /** Runs every collector, each for at most `timeoutMs`: a slow one leaves its last values. */
  async collect(timeoutMs = 1000): Promise<void> {
    await Promise.all(this.collectors.map((fn) => {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
      return Promise.race([fn().catch(() => undefined), limit]).finally(() => clearTimeout(timer));
    }));
  }

  inc(name: string, labels: Labels = {}, by = 1, help?: string): void {
    const s = this.counterSeries(name, help);
    const k = labelKey(labels);
    s.set(k, (s.get(k) ?? 0) + by);
  }

  observe(name: string, valueMs: number, labels: Labels = {}, help?: string): void {
    record(this.histogramOf(name, labelKey(labels), help), valueMs);
  }

  /** inc() for one fixed series, with its key worked out once (for per-request counters). */
  counter(name: string, labels: Labels, help?: string): (by?: number) => void {
    const s = this.counterSeries(name, help);
    const k = labelKey(labels);
    return (by = 1) => s.set(k, (s.get(k) ?? 0) + by);
  }

  /** observe() for one fixed series, with its key worked out once. */
  histogram(name: string, labels: Labels, help?: string): (valueMs: number) => void {
    const h = this.histogramOf(name, labelKey(labels), help);
    return (valueMs) => record(h, valueMs);
  }

  private counterSeries(name: string, help?: string): Map<string, number> {
    if (help) this.help.set(name, help);
    let series = this.counters.get(name);
    if (!series) this.counters.set(name, (series = new Map()));
    return series;
  }

  private histogramOf(name: string, key: string, help?: string): Histogram {
    if (help) this.help.set(name, help);
    let series = this.histos.get(name);
    if (!series) this.histos.set(name, (series = new Map()));
    let h = series.get(key);
    if (!h) series.set(key, (h = { buckets: BUCKETS_MS.map(() => 0), sum: 0, count: 0 }));
    return h;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, series] of this.counters) {
      if (this.help.has(name)) out.push(`# HELP ${name} ${this.help.get(name)}`);
      out.push(`# TYPE ${name} counter`);
      for (const [k, v] of series) out.push(`${name}${k ? `{${k}}` : ''} ${v}`);
    }
    for (const [name, series] of this.gauges) {
      if (this.help.has(name)) out.push(`# HELP ${name} ${this.help.get(name)}`);
      out.push(`# TYPE ${name} gauge`);
      for (const [k, v] of series) out.push(`${name}${k ? `{${k}}` : ''} ${v}`);
    }
    for (const [name, series] of this.histos) {
      if (this.help.has(name)) out.push(`# HELP ${name} ${this.help.get(name)}`);
      out.push(`# TYPE ${name} histogram`);
      for (const [k, h] of series) {
        const sep = k ? `${k},` : '';
        BUCKETS_MS.forEach((b, i) => out.push(`${name}_bucket{${sep}le="${b}"} ${h.buckets[i]}`));
        out.push(`${name}_bucket{${sep}le="+Inf"} ${h.count}`);
        out.push(`${name}_sum${k ? `{${k}}` : ''} ${h.sum}`);
        out.push(`${name}_count${k ? `{${k}}` : ''} ${h.count}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
