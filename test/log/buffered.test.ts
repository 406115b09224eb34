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
      const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { i: number; msg: string });
      assert.equal(lines.length, count, r.stderr);
      assert.deepEqual(lines.map((l) => l.i), [...Array(count).keys()]);
      if (how === 'flushcb') assert.equal(r.stderr, 'flushed\n');
    });
  }
}
