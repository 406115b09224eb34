// /metrics through prom-client: the service's own series beside the process defaults, latency
// in seconds, label values that cannot break the text format, and counting that never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/http/metrics.js';

test('counters: one series per label set whatever the label order; unsafe characters replaced', async () => {
  const m = new Metrics({ defaults: false });
  m.inc('hops_total', { outcome: 'con', channel: 'at' }, 1, 'Hops');
  m.inc('hops_total', { channel: 'at', outcome: 'con' }, 2);
  m.inc('hops_total', { channel: 'a"b\\c\nd', outcome: 'end' });
  m.inc('plain_total');
  const out = await m.render();
  assert.match(out, /^# HELP hops_total Hops$/m);
  assert.match(out, /^# TYPE hops_total counter$/m);
  assert.match(out, /^hops_total\{channel="at",outcome="con"\} 3$/m);
  assert.match(out, /^hops_total\{channel="a_b_c_d",outcome="end"\} 1$/m);
  assert.match(out, /^plain_total 1$/m);
});

test('histograms take milliseconds and export seconds: cumulative buckets, sum and count', async () => {
  const m = new Metrics({ defaults: false });
  for (const v of [3, 7, 7, 4000, 9000]) m.observe('hop_seconds', v, { channel: 'at' });
  const out = await m.render();
  assert.match(out, /^hop_seconds_bucket\{le="0\.005",channel="at"\} 1$/m);
  assert.match(out, /^hop_seconds_bucket\{le="0\.01",channel="at"\} 3$/m);
  assert.match(out, /^hop_seconds_bucket\{le="2\.5",channel="at"\} 3$/m);
  assert.match(out, /^hop_seconds_bucket\{le="5",channel="at"\} 4$/m);
  assert.match(out, /^hop_seconds_bucket\{le="\+Inf",channel="at"\} 5$/m);
  assert.match(out, /^hop_seconds_sum\{channel="at"\} 13\.017$/m);
  assert.match(out, /^hop_seconds_count\{channel="at"\} 5$/m);
  assert.throws(() => new Metrics({ defaults: false }).histogram('hop_ms', {}), /named …_seconds/);
});

test('series handles add to the same series as inc()/observe()', async () => {
  const m = new Metrics({ defaults: false });
  const con = m.counter('hops_total', { outcome: 'con', channel: 'at' }, 'Hops');
  con();
  con(2);
  m.inc('hops_total', { outcome: 'con', channel: 'at' });
  const t = m.histogram('hop_seconds', { channel: 'at' });
  t(4);
  m.observe('hop_seconds', 40, { channel: 'at' });
  const out = await m.render();
  assert.match(out, /^hops_total\{channel="at",outcome="con"\} 4$/m);
  assert.match(out, /^hop_seconds_bucket\{le="0\.005",channel="at"\} 1$/m);
  assert.match(out, /^hop_seconds_count\{channel="at"\} 2$/m);
});

test('a metric used with other label names is skipped with one warning, never a throw', async () => {
  const m = new Metrics({ defaults: false });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    m.inc('steps_total', { step: 'vend' });
    assert.doesNotThrow(() => m.inc('steps_total', { step: 'vend', gateway: 'kyanda' }));
    assert.doesNotThrow(() => m.inc('steps_total', { other: 'x' }));
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(warnings.filter((w) => w.startsWith('metric steps_total:')).length, 1);
  assert.match(await m.render(), /^steps_total\{step="vend"\} 1$/m);
});

test('the process and Node.js defaults are exported', async () => {
  const out = await new Metrics().render();
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    assert.match(out, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});
