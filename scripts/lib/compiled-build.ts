// The compiled build as the production image builds it (tsc with tsconfig.build.json, then the
// Lua scripts copied beside the modules), and the standalone sandbox gateway as a process: for
// the benchmark's compiled target and the compiled-build test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './private-redis.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds into `outDir` (inside the repository, so the build finds node_modules); returns the ms
 * it took. `quiet`: tsc's output goes into the error thrown on failure instead of the terminal.
 */
export function buildCompiled(outDir: string, quiet = false): number {
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], {
    stdio: quiet ? 'pipe' : 'inherit',
  });
  execFileSync(process.execPath, [join(ROOT, 'scripts/copy-lua.mjs'), outDir], { stdio: 'ignore' });
  return Date.now() - t0;
}

export interface SandboxProcess {
  url: string;
  stop(): void;
}

/** `npm run sandbox` (the script's file, from package.json) on a free port; resolves once it answers. */
export async function startSandbox(): Promise<SandboxProcess> {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.sandbox!;
  const file = script.replace(/^tsx\s+/, '');
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the sandbox gateway (${file}) exited with code ${child.exitCode}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the sandbox gateway did not answer within 30 s');
}
