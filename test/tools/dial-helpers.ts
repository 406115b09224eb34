// Runs scripts/dial.ts as a user would (a separate process) and a tiny Africa's Talking-speaking
// HTTP server that records what dial sent, so the wire format can be checked exactly.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DialRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnDial(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'scripts/dial.ts', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, USSD_URL: '', PORT: '', USSD_SERVICE_CODE: '' },
  });
}

/** Spawns dial, writes `stdin` (then closes it unless keepOpen) and collects its output. */
export function collect(child: ChildProcess, timeoutMs = 20_000): Promise<DialRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dial did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export async function runDial(args: string[], stdin = ''): Promise<DialRun> {
  const child = spawnDial(args);
  const done = collect(child);
  child.stdin!.end(stdin);
  return done;
}

export interface Recorded {
  path: string;
  contentType: string;
  form: Record<string, string>;
  /** The body as sent (JSON channels). */
  body: string;
}

export interface FakeAggregatorTarget {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A service stand-in: `reply(form)` gives [status, body] for each recorded request. */
export async function fakeService(reply: (form: Record<string, string>) => [number, string]): Promise<FakeAggregatorTarget> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', form, body });
      const [status, text] = reply(form);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
