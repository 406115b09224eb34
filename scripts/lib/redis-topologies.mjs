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

async function waitPing(port) {
  await waitFor(`redis-server on ${port}`, () => ping(port), 10_000, 50);
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
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const busPort = await freePort();
    const node = {
      port,
      busPort,
      proc: undefined,
      args: [
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
      ],
    };
    node.proc = startProcess(node.args, dir);
    nodes.push(node);
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => killProcess(n.proc, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => waitPing(n.port)));
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
    const masterPort = await freePort();
    const replicaPort = await freePort();
    // The master writes only while a replica follows it: once a failover promotes the replica,
    // the old master refuses writes (NOREPLICAS) at once instead of accepting, until the
    // sentinels demote it, writes that its resync would then throw away (docs/operations.md,
    // "Sentinel"). With a single replica the promoted one must not carry the setting, or it
    // would refuse writes until the old master has resynced from it; with two replicas every
    // node carries it.
    const guard = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '2'];
    procs.push(startProcess(['--port', String(masterPort), ...guard, ...PERSISTENCE_OFF], dir));
    await waitPing(masterPort);
    procs.push(startProcess(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(masterPort), ...PERSISTENCE_OFF], dir));
    await waitPing(replicaPort);
    const sentinelPorts = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
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
      procs.push(startProcess([file, '--sentinel', '--loglevel', 'warning'], dir));
      sentinelPorts.push(port);
    }
    await Promise.all(sentinelPorts.map(waitPing));
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
