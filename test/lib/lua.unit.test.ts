// The Lua loader (src/lib/lua.ts): every script in src/ has a header naming each KEYS and ARGV
// index its body reads, and the key count ioredis is given comes from that header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseLua } from '../../src/lib/lua.js';

function luaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? luaFiles(p) : n.endsWith('.lua') ? [p] : [];
  });
}

test('every script under src/ parses: a header that names every KEYS and ARGV its body reads', () => {
  const files = luaFiles('src');
  assert.ok(files.length >= 1, 'scripts found');
  for (const f of files) {
    const s = parseLua(f, readFileSync(f, 'utf8'));
    assert.ok(s.numberOfKeys >= 1, `${f}: names at least one key`);
    assert.match(s.sha, /^[0-9a-f]{40}$/);
  }
});

test('the rate limiter script takes six keys (its header names KEYS[1]..KEYS[6])', () => {
  assert.equal(parseLua('rate-acquire', readFileSync('src/gateway/http/lua/rate-acquire.lua', 'utf8')).numberOfKeys, 6);
});

test('each script takes as many keys as its module passed when the script was inline', () => {
  // [file, the key count the module used to pass (for order-transition: its fixed keys, before one per `from` state)]
  const counts: Array<[string, number]> = [
    ['src/agents/lua/pin-take-try.lua', 1],
    ['src/agents/lua/pin-wrong.lua', 1],
    ['src/sms/lua/otp-send.lua', 7],
    ['src/sms/lua/otp-take-try.lua', 1],
    ['src/sms/lua/otp-consume.lua', 1],
    ['src/sms/lua/otp-cancel.lua', 7],
    ['src/sms/lua/idem-claim.lua', 1],
    ['src/sms/lua/idem-commit.lua', 1],
    ['src/sms/lua/guard-release.lua', 1],
    ['src/sms/lua/duplicate.lua', 1],
    ['src/sms/lua/bulk-finish.lua', 4],
    ['src/sms/lua/bulk-dlr.lua', 3],
    ['src/payments/lua/order-create.lua', 6],
    ['src/payments/lua/order-transition.lua', 4],
    ['src/payments/lua/order-note.lua', 2],
    ['src/payments/lua/ipn-record.lua', 2],
  ];
  for (const [f, n] of counts) assert.equal(parseLua(f, readFileSync(f, 'utf8')).numberOfKeys, n, f);
});

test('a body reading a key or argument its header does not name is refused, naming the index', () => {
  assert.throws(() => parseLua('x', '--[[\n  KEYS[1] a\n  ARGV[1] b\n]]\nreturn redis.call("GET", KEYS[2])'), /reads KEYS\[2\]/);
  assert.throws(() => parseLua('x', '--[[\n  KEYS[1] a\n]]\nreturn ARGV[1]'), /reads ARGV\[1\]/);
  assert.throws(() => parseLua('x', 'return 1'), /header/);
  assert.equal(parseLua('x', '--[[\n  KEYS[1] a\n  KEYS[2] b\n  ARGV[1] c\n]]\nreturn {KEYS[1], KEYS[2], ARGV[1]}').numberOfKeys, 2);
});
