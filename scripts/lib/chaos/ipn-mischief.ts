// IPNs as they misbehave in production, posted to the service's callback route through the
// balancer: delivered twice, late (an old one again, minutes of state later), out of order (a
// "Failed" for a transaction after its success, then the success again), or forged (a "Success"
// the gateway never sent: with a wrong signature it must be refused with 401; unsigned it is
// accepted and must move no money, since money moves only on the gateway's status lookup).
// Unsigned genuine IPNs come from the sandbox's own `unsignedIpn` fault (faults.ts).
import { createHmac } from 'node:crypto';
import type { FaultTargets } from './faults.js';

export type IpnKind = 'duplicate' | 'late' | 'out_of_order' | 'unsigned' | 'forged';

interface Delivery {
  kind: string;
  state: string;
  transactionRef: string;
  body: Record<string, unknown>;
  attempts: Array<{ at: string }>;
}

async function deliveries(sandboxUrl: string): Promise<Delivery[]> {
  const r = await fetch(`${sandboxUrl}/_ipn`);
  return ((await r.json()) as Delivery[]).filter((d) => d.kind === 'ipn' && d.state === 'delivered');
}

async function post(t: FaultTargets, body: Record<string, unknown>, signature?: string): Promise<number> {
  const r = await fetch(`${t.balancerUrl}/callbacks/kyanda`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(signature ? { [t.signatureHeader]: signature } : {}) },
    signal: AbortSignal.timeout(12_000),
  }).catch(() => undefined);
  if (!r) return 0;
  await r.text();
  return r.status;
}

/** Problems found on the way (a forged IPN accepted) go to `onNote` as violations. */
export async function ipnMischief(kind: IpnKind, pick: number, t: FaultTargets, onNote: (s: string) => void): Promise<'done' | 'skipped'> {
  const all = await deliveries(t.sandboxUrl).catch(() => []);
  if (all.length === 0) return 'skipped';
  const d = all[pick % all.length]!;
  switch (kind) {
    case 'duplicate':
      await post(t, d.body);
      await post(t, d.body);
      return 'done';
    case 'late': {
      // The oldest delivered IPN, again.
      await post(t, all[pick % Math.min(all.length, 10)]!.body);
      return 'done';
    }
    case 'out_of_order': {
      await post(t, { ...d.body, status: 'Failed', status_code: '1107', message: 'Transaction failed' });
      await post(t, d.body);
      return 'done';
    }
    case 'forged': {
      const forged = { ...d.body, status: 'Success', status_code: '0000' };
      const wrong = createHmac('sha256', 'not-the-secret').update(JSON.stringify(forged)).digest('hex');
      const status = await post(t, forged, wrong);
      if (status !== 401 && status !== 0 && status !== 502 && status !== 503)
        onNote(`forged IPN with a wrong signature answered ${status}, not 401 (ref ${d.transactionRef})`);
      await post(t, { ...forged, transactionRef: `FORGED${pick}` });
      return 'done';
    }
    default:
      return 'skipped';
  }
}
