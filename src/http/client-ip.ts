// Who is calling: the address the connection comes from, unless that is one of our own reverse
// proxies (TRUSTED_PROXIES), whose X-Forwarded-For is then read from the right, hop by hop,
// until the first address that is not a trusted proxy. Anyone can write X-Forwarded-For, so a
// request that does not come from a trusted proxy never has it read (Koa's `proxy: true` would
// believe the left-most entry from anyone).
import { BlockList, isIP } from 'node:net';
import type { Context } from 'koa';

/** "::ffff:10.0.0.1" → "10.0.0.1"; "10.0.0.1:5678" and "[::1]:5678" lose their port. */
function plain(addr: string): string {
  let a = addr.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracket) a = bracket[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  return a;
}

export interface ClientIp {
  /** The client's address for quotas and logs. */
  of(ctx: Context): string;
}

/** `trusted`: IPs and CIDRs (validated by config.ts). */
export function clientIpResolver(trusted: readonly string[]): ClientIp {
  const list = new BlockList();
  for (const entry of trusted) {
    const [addr, bits] = entry.split('/') as [string, string?];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  const isTrusted = (a: string): boolean => {
    const v = isIP(a);
    return v !== 0 && list.check(a, v === 6 ? 'ipv6' : 'ipv4');
  };
  return {
    of(ctx: Context): string {
      const peer = plain(ctx.req.socket.remoteAddress ?? '');
      if (trusted.length === 0 || !isTrusted(peer)) return peer;
      const hops = ctx
        .get('x-forwarded-for')
        .split(',')
        .map(plain)
        .filter((h) => h !== '');
      let client = peer;
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!;
        // Junk where an address should be: whoever wrote it is not a proxy of ours.
        if (!isIP(hop)) break;
        client = hop;
        if (!isTrusted(hop)) break;
      }
      return client;
    },
  };
}
