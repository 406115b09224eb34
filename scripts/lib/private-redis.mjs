// A throwaway redis-server on a free loopback port, for `npm test` and the benchmarks, so
// neither ever touches a developer's Redis. Plain JS (.mjs) because scripts/test.mjs runs
// without tsx; TypeScript callers get types from private-redis.d.mts.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** True when something on the port answers PING with +PONG. */
export function ping(port) {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.on('error', () => resolve(false));
  });
}

/**
 * Starts redis-server without persistence on a free port and waits until it answers.
 * When the binary is missing, prints how to install it and exits the process (code 1):
 * every caller is a command-line tool for which that is the only useful outcome.
 */
export async function startPrivateRedis(opts = {}) {
  // The port may be taken between freePort() and redis-server's bind (another test file starting
  // its own servers): a server that exits before answering is started again on a new port.
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(opts);
    if (started) return started;
    if (attempt === 5) throw new Error('private redis-server did not answer');
  }
}

async function startOnce(opts) {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', opts.stderr ?? 'inherit'],
  });
  proc.on('error', (err) => {
    console.error(`cannot start redis-server (${err.message}); install it (apt-get install -y redis-server) or set REDIS_URL`);
    process.exit(1);
  });
  let exited = false;
  proc.once('exit', () => {
    exited = true;
  });
  const stop = () => {
    if (exited) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}`, port, proc, stop };
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  return undefined;
}
