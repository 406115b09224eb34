// The Redis a benchmark runs against: a private redis-server (default) or a local Cluster of
// 3 masters and 3 replicas (`--redis cluster`, scripts/lib/redis-topologies.mjs). Gives a client
// per node for what only a node can tell: CPU time, command counts, SCAN, MEMORY USAGE, MONITOR.
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../../scripts/lib/private-redis.mjs';
import { startCluster } from '../../scripts/lib/redis-topologies.mjs';

export type RedisKind = 'single' | 'cluster';

export interface RedisSide {
  kind: RedisKind;
  /** REDIS_URL for the targets */
  url: string;
  /** one client per node (replicas included: replication costs CPU too) */
  nodes: Redis[];
  /** one client per master: where the keys are */
  masters: Redis[];
  stop(): Promise<void>;
}

export async function startRedisSide(kind: RedisKind): Promise<RedisSide> {
  if (kind === 'single') {
    const server = await startPrivateRedis();
    const c = new Redis(server.url);
    return {
      kind,
      url: server.url,
      nodes: [c],
      masters: [c],
      async stop() {
        c.disconnect();
        await server.stop();
      },
    };
  }
  const cluster = await startCluster({ masters: 3, replicas: 1 });
  const masterPorts = new Set(await cluster.masterPorts());
  const nodes = cluster.nodes.map((n) => new Redis({ port: n.port, host: '127.0.0.1' }));
  return {
    kind,
    url: cluster.url,
    nodes,
    masters: nodes.filter((_, i) => masterPorts.has(cluster.nodes[i]!.port)),
    async stop() {
      for (const n of nodes) n.disconnect();
      await cluster.stop();
    },
  };
}

/** used_cpu_user + used_cpu_sys summed over every node. */
export async function cpuSeconds(side: RedisSide): Promise<number> {
  let s = 0;
  for (const n of side.nodes) {
    const info = await n.info('cpu');
    const get = (k: string) => Number(new RegExp(`(?:^|\\n)${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    s += get('used_cpu_user') + get('used_cpu_sys');
  }
  return s;
}

/** Commands every master executed so far (INFO commandstats; commands run inside scripts included). */
export async function commandCalls(side: RedisSide): Promise<number> {
  let s = 0;
  for (const n of side.masters) {
    const info = await n.info('commandstats');
    for (const m of info.matchAll(/calls=(\d+)/g)) s += Number(m[1]);
  }
  return s;
}

export interface Watched {
  clientCommands: string[];
  scriptCommands: number;
}

/**
 * MONITOR on every master while `fn` runs: the commands whose arguments mention one of
 * `needles` (the sample session's id or phone), split into those a client sent (one round trip
 * each; a pipeline's commands still count one each) and those a Lua script ran.
 */
export async function watch(side: RedisSide, needles: string[], fn: () => Promise<void>): Promise<Watched> {
  const out: Watched = { clientCommands: [], scriptCommands: 0 };
  // A plain socket per master: MONITOR's stream of lines, "+<time> [<db> <client>|lua] "CMD" "arg"…".
  const sockets = await Promise.all(
    side.masters.map(
      (m) =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(m.options.port!, m.options.host ?? '127.0.0.1', () => {
            s.write('MONITOR\r\n');
            resolve(s);
          });
          s.on('error', reject);
          let buf = '';
          s.on('data', (d) => {
            buf += d.toString();
            const lines = buf.split('\r\n');
            buf = lines.pop()!;
            for (const line of lines) {
              const m = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
              if (!m || !needles.some((n) => m[2]!.includes(n))) continue;
              if (m[1] === 'lua') out.scriptCommands++;
              else out.clientCommands.push(JSON.parse(m[2]!.split(' ')[0]!).toLowerCase());
            }
          });
        }),
    ),
  );
  try {
    await new Promise((r) => setTimeout(r, 100)); // MONITOR is on before the first command
    await fn();
    await new Promise((r) => setTimeout(r, 200)); // the last lines reach the monitors
  } finally {
    for (const s of sockets) s.destroy();
  }
  return out;
}
