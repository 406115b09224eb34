// The service as its own process (`node src/main.ts`, as `npm start` runs it), for the tests
// that send it signals: SIGTERM must drain, answer what is in flight and exit in time.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../scripts/lib/private-redis.mjs';

export interface Child {
  url: string;
  proc: ChildProcess;
  /** Every log line so far (JSON, one per line). */
  lines: string[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  ready(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

export async function spawnService(env: Record<string, string>, entry = 'src/main.ts'): Promise<Child> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    proc,
    lines,
    exited,
    async ready(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const ok = await fetch(`${url}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return;
        if (proc.exitCode !== null) throw new Error(`service exited (${proc.exitCode}): ${lines.slice(-5).join('\n')}`);
        if (Date.now() > until) throw new Error(`service not ready: ${lines.slice(-5).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** A load balancer's view: the instances whose /readyz said 200 at the last poll. */
export function readinessPool(initial: string[], everyMs = 100): { urls(): string[]; add(url: string): void; stop(): void } {
  const known = new Set(initial);
  let healthy = [...initial];
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const checks = await Promise.all(
        [...known].map(async (u) =>
          (await fetch(`${u}/readyz`).then(
            (r) => r.status,
            () => 0,
          )) === 200
            ? u
            : undefined,
        ),
      );
      const up = checks.filter((u): u is string => !!u);
      if (up.length > 0) healthy = up;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    urls: () => healthy,
    add: (u) => {
      known.add(u);
    },
    stop: () => {
      stopped = true;
    },
  };
}
