// REDIS_URL names one of three topologies (docs/operations.md, "Redis topologies"):
//   redis://[:password@]host:port[/db] (or rediss://)      one node, as always;
//   redis-sentinel://[:password@]host:port,host:port/<master-name>[/db]
//                                                          a Sentinel set watching one master;
//   redis-cluster://[:password@]host:port,host:port        a Redis Cluster (any reachable nodes
//                                                          as seeds; the rest are discovered).
// Parsed by hand: a list of host:port pairs is not a URL that `new URL` accepts.

export interface HostPort {
  host: string;
  port: number;
}

export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; password?: string; db?: number; tls?: boolean }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string; tls?: boolean };

export const REDIS_URL_FORMS = 'redis://host:port, redis-sentinel://host:port,host:port/<master-name> or redis-cluster://host:port,host:port';

function hostPorts(list: string, defaultPort: number): HostPort[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      // [::1]:7000 or host:7000 or host
      const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hp);
      if (!m) throw new Error(`"${hp}" is not host:port`);
      const port = m[2] ? Number(m[2]) : defaultPort;
      if (port < 1 || port > 65535) throw new Error(`"${hp}": port out of range`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
    });
}

/** Throws an Error naming what is wrong; the config turns it into one line about REDIS_URL. */
export function parseRedisUrl(url: string): RedisTopology {
  const m = /^(redis|rediss|redis-sentinel|rediss-sentinel|redis-cluster|rediss-cluster):\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/.exec(url.trim());
  if (!m) throw new Error(`must be ${REDIS_URL_FORMS}`);
  const [, scheme, auth, hosts, path = ''] = m as unknown as [string, string, string | undefined, string, string | undefined];
  const tls = scheme.startsWith('rediss');
  // ":password" or "user:password": ioredis takes the password (ACL users go in the single-node URL form).
  const password = auth ? decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth) || undefined : undefined;
  if (scheme === 'redis' || scheme === 'rediss') {
    hostPorts(hosts, 6379);
    if (hosts.includes(',')) throw new Error('one host only in redis://; list several with redis-sentinel:// or redis-cluster://');
    return { kind: 'single', url };
  }
  if (scheme.endsWith('-sentinel')) {
    const [name, db] = path.split('/').filter(Boolean);
    if (!name) throw new Error('redis-sentinel:// needs the master name: redis-sentinel://host:port,host:port/<master-name>');
    if (db !== undefined && !/^\d+$/.test(db)) throw new Error(`database "${db}" is not a number`);
    return {
      kind: 'sentinel',
      sentinels: hostPorts(hosts, 26379),
      name: decodeURIComponent(name),
      ...(password ? { password } : {}),
      ...(db ? { db: Number(db) } : {}),
      ...(tls ? { tls } : {}),
    };
  }
  if (path && path !== '/') throw new Error('redis-cluster:// takes no path: a cluster has only database 0');
  return { kind: 'cluster', nodes: hostPorts(hosts, 6379), ...(password ? { password } : {}), ...(tls ? { tls } : {}) };
}

export function isClusterUrl(url: string): boolean {
  try {
    return parseRedisUrl(url).kind === 'cluster';
  } catch {
    return false;
  }
}
