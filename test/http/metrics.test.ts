import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/http/metrics.js';

test('counters: one series per label set whatever the label order; unsafe characters replaced', () => {
  const m = new Metrics();
  m.inc('hops_total', { outcome: 'con', channel: 'at' }, 1, 'Hops');
  m.inc('hops_total', { channel: 'at', outcome: 'con' }, 2);
  m.inc('hops_total', { channel: 'a"b\\c\nd', outcome: 'end' });
  m.inc('plain_total');
  const out = m.render();
  assert.match(out, /^# HELP hops_total Hops$/m);
  assert.match(out, /^hops_total\{channel="at",outcome="con"\} 3$/m);
  assert.match(out, /^hops_total\{channel="a_b_c_d",outcome="end"\} 1$/m);
  assert.match(out, /^plain_total 1$/m);
});

test('histograms: cumulative buckets, sum and count', () => {
  const m = new Metrics();
  for (const v of [3, 7, 7, 4000, 9000]) m.observe('hop_ms', v, { channel: 'at' });
  const out = m.render();
  assert.match(out, /^hop_ms_bucket\{channel="at",le="5"\} 1$/m);
  assert.match(out, /^hop_ms_bucket\{channel="at",le="10"\} 3$/m);
  assert.match(out, /^hop_ms_bucket\{channel="at",le="2500"\} 3$/m);
  assert.match(out, /^hop_ms_bucket\{channel="at",le="5000"\} 4$/m);
  assert.match(out, /^hop_ms_bucket\{channel="at",le="\+Inf"\} 5$/m);
  assert.match(out, /^hop_ms_sum\{channel="at"\} 13017$/m);
  assert.match(out, /^hop_ms_count\{channel="at"\} 5$/m);
});

test('series handles add to the same series as inc()/observe()', () => {
  const m = new Metrics();
  const con = m.counter('hops_total', { outcome: 'con', channel: 'at' }, 'Hops');
  con();
  con(2);
  m.inc('hops_total', { channel: 'at', outcome: 'con' });
  const t = m.histogram('hop_ms', { channel: 'at' });
  t(4);
  m.observe('hop_ms', 40, { channel: 'at' });
  const out = m.render();
  assert.match(out, /^hops_total\{channel="at",outcome="con"\} 4$/m);
  assert.match(out, /^hop_ms_bucket\{channel="at",le="5"\} 1$/m);
  assert.match(out, /^hop_ms_count\{channel="at"\} 2$/m);
});
