// What the production image runs: the compiled build (tsc with tsconfig.build.json, then the
// Lua scripts copied beside the modules by scripts/copy-lua.mjs) starts with `node main.js`
// and serves a USSD hop. The build leaves the development sandbox (src/dev/) out: without a
// GATEWAY_URL it refuses to start, saying so; here it runs against the standalone sandbox
// (`npm run sandbox`, docs/sandbox.md) as it would against a real gateway. Built into a temporary
// folder (.compiled-*, git-ignored) so a developer's dist/ is left alone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/lib/private-redis.mjs';
import { buildCompiled } from '../../scripts/lib/compiled-build.js';
import { TOKEN } from '../support/api.js';

// Inside the repository, so the build finds node_modules as dist/ would.
const out = mkdtempSync(join(process.cwd(), '.compiled-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(out, { recursive: true, force: true });
});

/** A child process whose output (stdout and stderr) is collected in `log()`. */
function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; log: () => string } {
  let log = '';
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stdout!.on('data', (d) => {
    log += d;
  });
  child.stderr!.on('data', (d) => {
    log += d;
  });
  return { child, log: () => log };
}

async function waitUp(url: string, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test(
  'the compiled build has no sandbox, refuses to start without GATEWAY_URL, and against the standalone sandbox answers a hop (its Lua scripts were copied)',
  { timeout: 180_000 },
  async () => {
    buildCompiled(out, true);
    assert.ok(existsSync(join(out, 'gateway', 'http', 'lua', 'rate-acquire.lua')), 'scripts copied beside the modules');
    assert.ok(existsSync(join(out, 'main.js')) && existsSync(join(out, 'dev-sandbox.js')), 'the service and its sandbox loader were compiled');
    assert.equal(existsSync(join(out, 'dev')), false, 'the development sandbox (src/dev/) is not in the production build');

    const port = await freePort();
    const serviceEnv: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_PREFIX: `compiled${port}:`,
      API_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
    };
    delete serviceEnv.GATEWAY_URL;

    // No gateway URL: the build has no sandbox to fall back on, and says so in one line.
    const refused = start([join(out, 'main.js')], serviceEnv);
    const code = await new Promise<number | null>((resolve) => refused.child.once('exit', (c) => resolve(c)));
    assert.notEqual(code, 0, `refused to start; its output:\n${refused.log()}`);
    assert.match(refused.log(), /the sandbox is a development tool not included in this build; set GATEWAY_URL/);
    assert.equal(refused.log().trim().split('\n').length, 1, `one line; its output:\n${refused.log()}`);

    // The standalone sandbox (default credentials, as the service's development defaults).
    const sandboxPort = await freePort();
    const sandboxEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(sandboxPort), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development' };
    delete sandboxEnv.GATEWAY_URL;
    const sandbox = start(['--import', 'tsx', 'src/dev/sandbox/standalone.ts'], sandboxEnv);
    const gatewayUrl = `http://127.0.0.1:${sandboxPort}`;
    assert.ok(await waitUp(`${gatewayUrl}/healthz`, sandbox.child), `the standalone sandbox became ready; its output:\n${sandbox.log()}`);

    const service = start([join(out, 'main.js')], { ...serviceEnv, GATEWAY_URL: gatewayUrl });
    const url = `http://127.0.0.1:${port}`;
    assert.ok(await waitUp(`${url}/readyz`, service.child), `the compiled service became ready; its output:\n${service.log()}`);
    const body = new URLSearchParams({ sessionId: `compiled-${port}`, serviceCode: '*860*30#', phoneNumber: '+254712345678', networkCode: '63902', text: '' });
    const r = await fetch(`${url}/ussd`, { method: 'POST', body });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /^CON /);
    // Start-up registers the IPN URL with the gateway (the standalone sandbox), a call that first
    // takes a slot through the rate limiter's Lua script: remembered in Redis only once it went through.
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      let registered: string | null = null;
      for (let i = 0; i < 100 && !registered; i++) {
        registered = await redis.get(`compiled${port}:callback-url:kyanda`);
        if (!registered) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(
        registered,
        `http://127.0.0.1:${port}/callbacks/kyanda`,
        `a gateway call through the limiter worked in the build; output:\n${service.log()}\nsandbox:\n${sandbox.log()}`,
      );
    } finally {
      redis.disconnect();
    }
  },
);
