// The pooled random ids (src/lib/random-id.ts): right length, never repeated across refills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomId } from '../../src/lib/random-id.js';

test('8-byte ids are 11 base64url characters, and 10,000 of them (many pool refills) never repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const id = randomId(8);
    assert.match(id, /^[A-Za-z0-9_-]{11}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 10_000);
});

test('sizes that do not divide the pool still get whole, fresh slices', () => {
  const ids = Array.from({ length: 2_000 }, () => randomId(13));
  assert.ok(ids.every((s) => Buffer.from(s, 'base64url').length === 13));
  assert.equal(new Set(ids).size, ids.length);
});
