// The fault schedule: drawn up front from the seed (kinds, start times, lengths), then played
// against the running processes and the sandbox gateway. Outages overlap when the draw says so.
import type { Rng } from './prng.js';
import type { Proc } from './processes.js';
import { ipnMischief, type IpnKind } from './ipn-mischief.js';

export type FaultKind =
  | 'redis_stall'
  | 'redis_restart'
  | 'kill_web'
  | 'kill_worker'
  | 'gateway_slow'
  | 'burst_1105'
  | 'burst_5000'
  | 'burst_429'
  | 'burst_9004'
  | 'gateway_down'
  | 'short_pay'
  | `ipn_${IpnKind}`;

const WEIGHTS: Array<[FaultKind, number]> = [
  ['redis_stall', 3],
  ['redis_restart', 1],
  ['kill_web', 2],
  ['kill_worker', 2],
  ['gateway_slow', 2],
  ['burst_1105', 1],
  ['burst_5000', 1],
  ['burst_429', 1],
  ['burst_9004', 1],
  ['gateway_down', 2],
  ['short_pay', 2],
  ['ipn_duplicate', 1],
  ['ipn_late', 1],
  ['ipn_out_of_order', 1],
  ['ipn_unsigned', 1],
  ['ipn_forged', 1],
];

export interface Fault {
  kind: FaultKind;
  atMs: number;
  lengthMs: number;
  pick: number;
  count: number;
}

/** About one fault every 5 s, none in the first and last 5 s of the load. */
export function schedule(rng: Rng, durationMs: number): Fault[] {
  const n = Math.max(4, Math.round(durationMs / 5000));
  const total = WEIGHTS.reduce((a, [, w]) => a + w, 0);
  const out: Fault[] = [];
  for (let i = 0; i < n; i++) {
    let r = rng.next() * total;
    let kind: FaultKind = 'redis_stall';
    for (const [k, w] of WEIGHTS)
      if ((r -= w) < 0) {
        kind = k;
        break;
      }
    out.push({
      kind,
      atMs: 5000 + Math.floor(rng.next() * Math.max(1, durationMs - 10_000)),
      lengthMs: rng.int(1000, 5000),
      pick: rng.int(0, 1_000_000),
      count: rng.int(2, 8),
    });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

export interface FaultTargets {
  redis: Proc;
  webs: Proc[];
  worker: Proc;
  sandboxUrl: string;
  balancerUrl: string;
  signatureHeader: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function gatewayFaults(sandboxUrl: string, body: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${sandboxUrl}/_faults`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (r.status !== 200) throw new Error(`sandbox _faults: HTTP ${r.status} ${await r.text()}`);
}

/** Plays one fault to its end; resolves with a note when it was skipped (its target already down). */
export async function play(f: Fault, t: FaultTargets, onNote: (s: string) => void): Promise<'done' | 'skipped'> {
  switch (f.kind) {
    case 'redis_stall':
      if (!t.redis.alive()) return 'skipped';
      t.redis.pause();
      await sleep(f.lengthMs);
      t.redis.resume();
      return 'done';
    case 'redis_restart':
      if (!t.redis.alive()) return 'skipped';
      await t.redis.stop();
      await sleep(Math.min(f.lengthMs, 2000));
      await t.redis.start();
      return 'done';
    case 'kill_web':
    case 'kill_worker': {
      const p = f.kind === 'kill_worker' ? t.worker : t.webs[f.pick % t.webs.length]!;
      if (!p.alive()) return 'skipped';
      p.kill();
      await sleep(f.lengthMs);
      await p.start();
      return 'done';
    }
    case 'gateway_slow':
      // Past the USSD deadline (4 s) for hops that wait on the gateway.
      await gatewayFaults(t.sandboxUrl, { latencyMs: 4500 + (f.pick % 2000) });
      await sleep(f.lengthMs);
      await gatewayFaults(t.sandboxUrl, { latencyMs: 0 });
      return 'done';
    case 'gateway_down':
      await gatewayFaults(t.sandboxUrl, { down: true });
      await sleep(f.lengthMs);
      await gatewayFaults(t.sandboxUrl, { down: false });
      return 'done';
    case 'burst_1105':
    case 'burst_5000':
    case 'burst_429':
    case 'burst_9004':
      // 9004 (amount limit) only means something for a money request; the others hit anything.
      await gatewayFaults(t.sandboxUrl, { failNext: { code: f.kind.slice(6), count: f.count, ...(f.kind === 'burst_9004' ? { path: '/create' } : {}) } });
      return 'done';
    case 'short_pay':
      await gatewayFaults(t.sandboxUrl, { checkoutPaid: { amount: 1 + (f.pick % 5), count: 1 } });
      return 'done';
    case 'ipn_unsigned':
      await gatewayFaults(t.sandboxUrl, { unsignedIpn: true });
      await sleep(f.lengthMs);
      await gatewayFaults(t.sandboxUrl, { unsignedIpn: false });
      return 'done';
    default:
      return ipnMischief(f.kind.slice(4) as IpnKind, f.pick, t, onNote);
  }
}
