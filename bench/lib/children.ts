// Starts a benchmark target in its own process and speaks to it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, TargetKind, ToChild } from './target.js';

export interface TargetStats {
  rss: number;
  maxRss: number;
  cpuUserUs: number;
  cpuSystemUs: number;
}

export interface RunningTarget {
  kind: TargetKind;
  url: string;
  pid: number;
  stats(): Promise<TargetStats>;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./target.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function waitMessage<T extends FromChild['type']>(
  child: ChildProcess,
  type: T | 'failed',
  timeoutMs: number,
): Promise<Extract<FromChild, { type: T | 'failed' }>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`benchmark target sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: FromChild) => {
      if (m.type !== type && m.type !== 'failed') return;
      cleanup();
      resolve(m as Extract<FromChild, { type: T | 'failed' }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`benchmark target exited (code ${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(t);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** `nodeArgs`: extra node flags for the target, e.g. --cpu-prof. */
export async function startTarget(
  kind: TargetKind,
  redisUrl: string,
  prefix: string,
  logLevel: string,
  nodeArgs: string[] = [],
  gatewayUrl?: string,
  dist?: string,
): Promise<RunningTarget> {
  const child = fork(ENTRY, [kind, redisUrl, prefix, logLevel, ...(gatewayUrl ? [gatewayUrl] : [])], {
    cwd: ROOT,
    env: { ...process.env, ...(dist ? { BENCH_DIST: dist } : {}) },
    execArgv: ['--import', 'tsx', ...nodeArgs],
    // stdout to /dev/null (service logs), stderr shown (crashes), IPC for control.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let exited = child.exitCode !== null;
  child.once('exit', () => (exited = true));
  const ready = await waitMessage(child, 'ready', 30_000).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (ready.type === 'failed') throw new Error(`${kind} failed to start: ${ready.message}`);
  const send = (m: ToChild) => child.send(m);
  return {
    kind,
    url: ready.url,
    pid: child.pid!,
    async stats() {
      const reply = waitMessage(child, 'stats', 5000);
      send({ type: 'stats' });
      const m = await reply;
      if (m.type === 'failed') throw new Error(m.message);
      return m;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 6000);
      if (child.connected) send({ type: 'stop' });
      else child.kill('SIGTERM');
      await gone;
      clearTimeout(kill);
    },
  };
}
