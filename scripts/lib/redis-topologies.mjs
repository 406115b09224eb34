// Real Redis topologies on loopback, for the scale tests, the benchmark (`npm run bench --
// --redis cluster`) and anyone trying the service on them: a Cluster (masters with replicas,
// `redis-cli --cluster create`) and a Sentinel set (a master, a replica, three sentinels).
// Every process runs without persistence in its own temporary directory; stop() kills them
// all and removes the directories. Timeouts are short so that failovers take seconds.
// Plain JS (.mjs) like private-redis.mjs; types in redis-topologies.d.mts.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, ping } from './private-redis.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const live = new Set();
// A test that dies half-way must not leave redis-servers behind.
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function startProcess(args, cwd) {
  const proc = spawn('redis-server', args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  proc.on('error', (err) => {
    console.error(`cannot start redis-server (${err.message}); install it (apt-get install -y redis-server)`);
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

function killProcess(proc, signal = 'SIGTERM') {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

async function waitFor(what, check, timeoutMs = 20_000, everyMs = 100) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// Ports handed out by this process: freePort() closes the port it found, so the OS may offer it
// again to the next call, or another program may take it before redis-server binds it.
const handedOut = new Set();
async function uniquePort() {
  for (;;) {
    const port = await freePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/**
 * Starts a redis-server (or sentinel) on fresh ports and resolves once it answers PING. A
 * process that exits first (its port was taken between freePort() and its bind: seen on a busy
 * CI machine as a Cluster that never came up) is started again on new ports, up to 5 times.
 * `make(ports)` returns { args, port } for the ports it was given.
 */
async function startOnFreePorts(count, make, dir) {
  let last;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const ports = [];
    for (let i = 0; i < count; i++) ports.push(await uniquePort());
    const { args, port } = make(ports);
    const proc = startProcess(args, dir);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const until = Date.now() + 10_000;
    while (!exited && Date.now() < until) {
      if (await ping(port)) return { proc, ports };
      await sleep(50);
    }
    await killProcess(proc, 'SIGKILL');
    last = new Error(`redis-server on ${port} ${exited ? 'exited before answering (port taken?)' : 'did not answer within 10 s'}`);
  }
  throw last;
}

/** One command on a short-lived connection (the topology's own bookkeeping, never the service's). */
export async function command(port, ...args) {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(...args);
  } finally {
    c.disconnect();
  }
}

const PERSISTENCE_OFF = ['--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--bind', '127.0.0.1'];

/**
 * A Redis Cluster of `masters` masters with `replicas` replicas each. Node timeout 1 s: a killed
 * master's replica takes over within about two seconds.
 */
export async function startCluster({ masters = 3, replicas = 1, nodeTimeoutMs = 1000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes = [];
  const count = masters * (1 + replicas);
  const argsFor = (port, busPort) => [
    '--port',
    String(port),
    '--cluster-port',
    String(busPort),
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    '--cluster-replica-validity-factor',
    '0',
    '--cluster-require-full-coverage',
    'yes',
    ...PERSISTENCE_OFF,
  ];
  const stop = async () => {
    await Promise.all(nodes.map((n) => killProcess(n.proc, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const { proc, ports } = await startOnFreePorts(2, ([port, busPort]) => ({ port, args: argsFor(port, busPort) }), dir);
      nodes.push({ port: ports[0], busPort: ports[1], proc, args: argsFor(ports[0], ports[1]) });
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 30_000,
    });
    const cluster = {
      url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
      nodes,
      dir,
      stop,
      /** Ports of the nodes that are masters now, as the live nodes see it. */
      async masterPorts() {
        for (const n of nodes) {
          if (n.proc.exitCode !== null || n.proc.signalCode !== null) continue;
          const text = String(await command(n.port, 'CLUSTER', 'NODES').catch(() => ''));
          if (!text) continue;
          return text
            .trim()
            .split('\n')
            .map((l) => l.split(' '))
            .filter((f) => f[2].includes('master') && !f[2].includes('fail') && f[8] !== undefined)
            .map((f) => Number(f[1].split('@')[0].split(':')[1]));
        }
        return [];
      },
      /** Resolves once every live node says cluster_state:ok and each master has its replicas in sync. */
      async waitHealthy(timeoutMs = 30_000) {
        await waitFor(
          'cluster_state:ok on every node',
          async () => {
            for (const n of nodes) {
              if (n.proc.exitCode !== null || n.proc.signalCode !== null) continue;
              if (!String(await command(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
            }
            return true;
          },
          timeoutMs,
        );
        await waitFor(
          'replicas in sync',
          async () => {
            for (const n of nodes) {
              if (n.proc.exitCode !== null || n.proc.signalCode !== null) continue;
              const info = String(await command(n.port, 'INFO', 'replication'));
              if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
            }
            return true;
          },
          timeoutMs,
        );
      },
      /** kill -9 of the master serving `port`'s slots (or the first master); resolves with its port once a replica took over. */
      async killMaster(port) {
        const masters = await cluster.masterPorts();
        const victim = nodes.find((n) => n.port === (port ?? masters[0]));
        if (!victim) throw new Error('no master to kill');
        await killProcess(victim.proc, 'SIGKILL');
        return victim.port;
      },
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A Sentinel set: a master, one replica and three sentinels (quorum 2) watching it as
 * `masterName`. down-after 1 s and failover-timeout 3 s so a failover takes seconds.
 */
export async function startSentinel({ masterName = 'mymaster', downAfterMs = 1000, failoverTimeoutMs = 3000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const procs = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => killProcess(p, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The master writes only while a replica follows it: once a failover promotes the replica,
    // the old master refuses writes (NOREPLICAS) at once instead of accepting, until the
    // sentinels demote it, writes that its resync would then throw away (docs/operations.md,
    // "Sentinel"). With a single replica the promoted one must not carry the setting, or it
    // would refuse writes until the old master has resynced from it; with two replicas every
    // node carries it.
    const guard = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '2'];
    const master = await startOnFreePorts(1, ([port]) => ({ port, args: ['--port', String(port), ...guard, ...PERSISTENCE_OFF] }), dir);
    procs.push(master.proc);
    const masterPort = master.ports[0];
    const replica = await startOnFreePorts(
      1,
      ([port]) => ({ port, args: ['--port', String(port), '--replicaof', '127.0.0.1', String(masterPort), ...PERSISTENCE_OFF] }),
      dir,
    );
    procs.push(replica.proc);
    const replicaPort = replica.ports[0];
    // Each sentinel's configuration, written for the port it is started on.
    const sentinelFile = (port) => {
      const file = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its own file as it learns the set: it must be writable.
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
          `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      return file;
    };
    const sentinelPorts = [];
    for (let i = 0; i < 3; i++) {
      const sentinel = await startOnFreePorts(1, ([port]) => ({ port, args: [sentinelFile(port), '--sentinel', '--loglevel', 'warning'] }), dir);
      procs.push(sentinel.proc);
      sentinelPorts.push(sentinel.ports[0]);
    }
    const set = {
      url: `redis-sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${masterName}`,
      masterName,
      ports: { master: masterPort, replica: replicaPort, sentinels: sentinelPorts },
      dir,
      stop,
      /** The master's port as the first answering sentinel sees it. */
      async currentMaster() {
        for (const p of sentinelPorts) {
          const r = await command(p, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName).catch(() => null);
          if (r) return Number(r[1]);
        }
        throw new Error('no sentinel answers');
      },
      /** Resolves once the replica is in sync and every sentinel knows the replica and the other sentinels. */
      async waitHealthy(timeoutMs = 30_000) {
        await waitFor(
          'sentinels see the replica and each other',
          async () => {
            const master = await set.currentMaster();
            const info = String(await command(master, 'INFO', 'replication'));
            if (!/connected_slaves:[1-9]/.test(info) || !/state=online/.test(info)) return false;
            for (const p of sentinelPorts) {
              const replicas = await command(p, 'SENTINEL', 'REPLICAS', masterName);
              const others = await command(p, 'SENTINEL', 'SENTINELS', masterName);
              const okReplica = replicas.some((r) => {
                const f = Object.fromEntries(r.reduce((a, v, i, arr) => (i % 2 ? a : [...a, [v, arr[i + 1]]]), []));
                return !String(f.flags).includes('down') && f['master-link-status'] === 'ok';
              });
              if (!okReplica || others.length < 2) return false;
            }
            return true;
          },
          timeoutMs,
        );
      },
      /** SENTINEL FAILOVER; resolves with the new master's port once the sentinels name it and it accepts writes. */
      async failover(timeoutMs = 20_000) {
        const before = await set.currentMaster();
        await command(sentinelPorts[0], 'SENTINEL', 'FAILOVER', masterName);
        let after = before;
        await waitFor(
          'a new master',
          async () => {
            after = await set.currentMaster();
            if (after === before) return false;
            return String(await command(after, 'INFO', 'replication')).includes('role:master');
          },
          timeoutMs,
        );
        return after;
      },
    };
    await set.waitHealthy();
    return set;
  } catch (err) {
    await stop();
    throw err;
  }
}
