// The processes of a chaos run, each one we can stall, kill and start again on the same port:
// a redis-server (append-only file, fsync on every write, so a restart loses nothing, as a
// production Redis with persistence would), the sandbox gateway alone (its ledger outlives every
// service restart), two web instances (ROLE=web style: WORKERS=false) and one worker process.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ping } from '../private-redis.mjs';

export interface Proc {
  name: string;
  port: number;
  url: string;
  child?: ChildProcess;
  /** Starts (or starts again) the process and resolves once it answers. */
  start(): Promise<void>;
  /** SIGKILL, no goodbye. */
  kill(): void;
  /** SIGSTOP / SIGCONT: the process hangs with its sockets open. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  alive(): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Whatever ends the run (a crash included), no process of ours outlives it.
const everyone: Proc[] = [];
process.on('exit', () => {
  for (const p of everyone) {
    try {
      p.child?.kill('SIGCONT');
      p.child?.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

async function waitHttp(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms} ms`);
    await sleep(100);
  }
}

function proc(name: string, port: number, dir: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: () => Promise<void>): Proc {
  const log = join(dir, `${name}.log`);
  const p: Proc = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    async start() {
      const fd = openSync(log, 'a');
      p.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: false });
      await ready();
    },
    kill() {
      p.child?.kill('SIGKILL');
    },
    pause() {
      p.child?.kill('SIGSTOP');
    },
    resume() {
      p.child?.kill('SIGCONT');
    },
    async stop() {
      const c = p.child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill('SIGCONT');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          c.kill('SIGKILL');
          resolve();
        }, 8000);
        c.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        c.kill('SIGTERM');
      });
    },
    alive() {
      return !!p.child && p.child.exitCode === null && p.child.signalCode === null;
    },
  };
  everyone.push(p);
  return p;
}

export async function redisProc(dir: string): Promise<Proc> {
  const port = await freePort();
  const p = proc(
    'redis',
    port,
    dir,
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--loglevel', 'warning'],
    {},
    async () => {
      for (let i = 0; i < 200; i++) {
        if (await ping(port)) return;
        await sleep(50);
      }
      throw new Error('redis-server did not answer');
    },
  );
  p.url = `redis://127.0.0.1:${port}`;
  return p;
}

const TSX = ['--import', 'tsx'];

export async function sandboxProc(dir: string, env: NodeJS.ProcessEnv): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return proc('sandbox', port, dir, process.execPath, [...TSX, 'src/dev/sandbox/standalone.ts'], { ...env, PORT: String(port) }, () =>
    waitHttp(`${url}/healthz`, 30_000),
  );
}

export async function webProc(name: string, dir: string, env: NodeJS.ProcessEnv): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return proc(name, port, dir, process.execPath, [...TSX, 'src/main.ts'], { ...env, PORT: String(port), HOST: '127.0.0.1', WORKERS: 'false' }, () =>
    waitHttp(`${url}/healthz`, 30_000),
  );
}

/** The worker has no port: it counts as up once it has logged its start (or after a pause). */
export function workerProc(dir: string, env: NodeJS.ProcessEnv): Proc {
  return proc('worker', 0, dir, process.execPath, [...TSX, 'src/worker.ts'], env, async () => {
    await sleep(1500);
  });
}
