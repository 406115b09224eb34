// Prometheus metrics through prom-client: the process and Node.js defaults (CPU, memory, event
// loop lag, GC, handles) plus the service's own counters, gauges and histograms. Modules name a
// metric where they count it (inc/set/observe, labels as a plain object); the first use creates
// it with those label names, so a metric is defined in one place, next to what it measures.
// Latency is observed in milliseconds by callers and exported in seconds, as Prometheus wants
// (names end in `_seconds`). Gauges read from elsewhere (Redis) are refreshed by collectors
// registered with onCollect, just before a scrape.
import client from 'prom-client';

type Labels = Record<string, string>;
/** Seconds: 5 ms … 5 s, around the aggregators' 5-second budget. */
const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const UNSAFE = /["\\\n]/;
const UNSAFE_ALL = /["\\\n]/g;
/**
 * Labels in name order (one stable series line whatever order a call site wrote them in), and
 * values that cannot break the text format (they come from requests: channels, gateways).
 */
function safe(labels: Labels): Labels {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  const out: Labels = {};
  for (const k of names) {
    const v = labels[k]!;
    out[k] = UNSAFE.test(v) ? v.replace(UNSAFE_ALL, '_') : v;
  }
  return out;
}

export class Metrics {
  readonly registry = new client.Registry();
  private readonly counters = new Map<string, client.Counter>();
  private readonly gauges = new Map<string, client.Gauge>();
  private readonly histograms = new Map<string, client.Histogram>();
  private collectors: Array<() => Promise<void>> = [];
  /** Metrics a call site used inconsistently (label names differing between calls), warned once. */
  private readonly misused = new Set<string>();

  constructor(opts: { defaults?: boolean } = {}) {
    // The defaults are per process; tests that build many registries can leave them out.
    if (opts.defaults !== false) client.collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge: a value that goes up and down (a backlog), set rather than added to. */
  set(name: string, labels: Labels, value: number, help?: string): void {
    this.guard(name, () => {
      let g = this.gauges.get(name);
      if (!g) this.gauges.set(name, (g = new client.Gauge({ name, help: help ?? name, labelNames: Object.keys(labels).sort(), registers: [this.registry] })));
      g.set(safe(labels), value);
    });
  }

  /** `fn` refreshes gauges that must be read from elsewhere (Redis) just before a scrape. */
  onCollect(fn: () => Promise<void>): void {
    this.collectors.push(fn);
  }

  /** Runs every collector, each for at most `timeoutMs`: a slow one leaves its last values. */
  async collect(timeoutMs = 1000): Promise<void> {
    await Promise.all(
      this.collectors.map((fn) => {
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        });
        return Promise.race([fn().catch(() => undefined), limit]).finally(() => clearTimeout(timer));
      }),
    );
  }

  inc(name: string, labels: Labels = {}, by = 1, help?: string): void {
    this.guard(name, () => this.counterOf(name, labels, help).inc(safe(labels), by));
  }

  /** A latency in milliseconds, into the histogram `name` (which ends in `_seconds`). */
  observe(name: string, valueMs: number, labels: Labels = {}, help?: string): void {
    this.guard(name, () => this.histogramOf(name, labels, help).observe(safe(labels), valueMs / 1000));
  }

  /** inc() for one fixed series, bound once (per-request counters skip the label lookup). */
  counter(name: string, labels: Labels, help?: string): (by?: number) => void {
    const child = this.counterOf(name, labels, help).labels(safe(labels));
    return (by = 1) => child.inc(by);
  }

  /** observe() for one fixed series, bound once; takes milliseconds. */
  histogram(name: string, labels: Labels, help?: string): (valueMs: number) => void {
    const child = this.histogramOf(name, labels, help).labels(safe(labels));
    return (valueMs) => child.observe(valueMs / 1000);
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Counting must never break what is being counted (a hop, a money step): a metric used with
   * other label names than at its first use is reported once as a process warning and skipped.
   */
  private guard(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (this.misused.has(name)) return;
      this.misused.add(name);
      process.emitWarning(`metric ${name}: ${(err as Error).message}`, 'MetricsWarning');
    }
  }

  private counterOf(name: string, labels: Labels, help?: string): client.Counter {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new client.Counter({ name, help: help ?? name, labelNames: Object.keys(labels).sort(), registers: [this.registry] })));
    return c;
  }

  private histogramOf(name: string, labels: Labels, help?: string): client.Histogram {
    if (!name.endsWith('_seconds')) throw new Error(`histogram ${name}: latency histograms are named …_seconds`);
    let h = this.histograms.get(name);
    if (!h)
      this.histograms.set(
        name,
        (h = new client.Histogram({ name, help: help ?? name, labelNames: Object.keys(labels).sort(), buckets: BUCKETS_S, registers: [this.registry] })),
      );
    return h;
  }
}
