// SessionStore sends its scripts through a command built without ioredis' copy of the
// arguments (src/ussd/session-store.ts, flatCommand). This fails when an ioredis upgrade makes
// that command differ from ioredis' own: the store then falls back to the slower one, and this
// test says the speed-up is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatArgsWork } from '../../src/ussd/session-store.js';

test('a session script command built from flat strings is the same command ioredis builds (bytes on the wire, Cluster keys)', () => {
  assert.equal(flatArgsWork(), true);
});
