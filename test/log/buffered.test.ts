// The service's logger buffers lines in blocks (src/log.ts): no line may be lost however the
// process ends: process.exit, the event loop running dry, or flushLogger / logger.flush(cb)
// before a hard kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const CHILD = new URL('../fixtures/buffered-log.ts', import.meta.url).pathname;

for (const how of ['exit', 'natural', 'flush', 'flushcb']) {
  // 60 lines of ~90 characters straddle the 4 KB block; 3000 make many blocks.
  for (const count of [1, 7, 60, 3000]) {
    test(`buffered logger, ${count} line(s), ending by ${how}: every line reaches stdout once, in order`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, how, String(count)], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.error, undefined);
      const lines = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { i: number; msg: string });
      assert.equal(lines.length, count, r.stderr);
      assert.deepEqual(
        lines.map((l) => l.i),
        [...Array(count).keys()],
      );
      if (how === 'flushcb') assert.equal(r.stderr, 'flushed\n');
    });
  }
}

test('redaction hides secrets only: PINs, codes sent by SMS, signatures, keys; a gateway status code stays readable', async () => {
  const { pino } = await import('pino');
  const { createLogger: make } = await import('../../src/log.js');
  const lines: string[] = [];
  const real = make('info');
  // Catch what the service's own logger writes (its options, its redaction).
  const stream = (real as unknown as Record<symbol, { write: (s: string) => boolean }>)[pino.symbols.streamSym]!;
  const original = stream.write.bind(stream);
  stream.write = (s: string) => {
    lines.push(s);
    return true;
  };
  try {
    real.info({ gateway: 'kyanda', code: '1104', otp: '482913', body: { pin: '1234', signature: 'abc', new_pin: '9876' } }, 'gateway call');
  } finally {
    stream.write = original;
  }
  const line = JSON.parse(lines[0]!) as Record<string, unknown> & { body: Record<string, unknown> };
  assert.equal(line.code, '1104');
  assert.equal(line.otp, '[redacted]');
  assert.deepEqual(line.body, { pin: '[redacted]', signature: '[redacted]', new_pin: '[redacted]' });
});
