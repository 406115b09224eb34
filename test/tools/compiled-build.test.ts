// What the production image runs: the compiled build (tsc with tsconfig.build.json, then the
// Lua scripts copied beside the modules by scripts/copy-lua.mjs) starts with `node main.js`
// and serves a USSD hop. Built into a temporary folder (.compiled-*, git-ignored) so a developer's
// dist/ is left alone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/lib/private-redis.mjs';

// Inside the repository, so the build finds node_modules as dist/ would.
const out = mkdtempSync(join(process.cwd(), '.compiled-'));
let child: ChildProcess | undefined;
after(() => {
  child?.kill('SIGKILL');
  rmSync(out, { recursive: true, force: true });
});

test('the compiled build starts with node and answers a hop (its Lua scripts were copied)', { timeout: 180_000 }, async () => {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', out], { stdio: 'pipe' });
  execFileSync(process.execPath, ['scripts/copy-lua.mjs', out], { stdio: 'pipe' });
  assert.ok(existsSync(join(out, 'gateway', 'http', 'lua', 'rate-acquire.lua')), 'scripts copied beside the modules');
  const port = await freePort();
  let log = '';
  child = spawn(process.execPath, [join(out, 'main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_PREFIX: `compiled${port}:`, API_TOKEN: 'test-api-token-0123456789', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 300 && !up && child.exitCode === null; i++) {
    up = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(up, `the compiled service became ready; its output:\n${log}`);
  const body = new URLSearchParams({ sessionId: `compiled-${port}`, serviceCode: '*860*30#', phoneNumber: '+254712345678', networkCode: '63902', text: '' });
  const r = await fetch(`${url}/ussd`, { method: 'POST', body });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /^CON /);
  // Start-up registers the IPN URL with the (embedded sandbox) gateway, a call that first takes a
  // slot through the rate limiter's Lua script: remembered in Redis only once it went through.
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    let registered: string | null = null;
    for (let i = 0; i < 100 && !registered; i++) {
      registered = await redis.get(`compiled${port}:callback-url:kyanda`);
      if (!registered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(registered, `http://127.0.0.1:${port}/callbacks/kyanda`, `a gateway call through the limiter worked in the build; output:\n${log}`);
  } finally {
    redis.disconnect();
  }
});
