// The simulated subscribers and what they buy: airtime for themselves and for others, bundles,
// bills, agents selling from float; some cancel at the confirmation, some confirm twice (the
// aggregator repeats the confirming request), some have a hop repeated. Every hop and reply is
// kept: the checks compare what each subscriber was last told with what happened.
import { randomUUID } from 'node:crypto';
import type { Rng } from './prng.js';
import { aggregatorHop, postHop, told, type Told } from './ussd-wire.js';

export type Kind = 'airtime_self' | 'airtime_other' | 'bundle' | 'bill' | 'float_airtime' | 'float_bundle' | 'float_bill';
const KINDS: Array<[Kind, number]> = [
  ['airtime_self', 3],
  ['airtime_other', 2],
  ['bundle', 2],
  ['bill', 2],
  ['float_airtime', 1],
  ['float_bundle', 1],
  ['float_bill', 1],
];

export interface Purchase {
  n: number;
  sessionId: string;
  phone: string;
  kind: Kind;
  /** cancel | confirm_twice | repeat_hop */
  mods: string[];
  inputs: string[];
  startedAt: number;
  hops: Array<{ text: string; reply?: string; error?: string; ms: number; repeat?: boolean }>;
  /** The last thing the handset showed after the confirming hop (or the last hop reached). */
  last?: string;
  lastTold: Told;
  lastAt: number;
  /** A repeated request answered differently from the original (both replies kept). */
  repeatMismatch?: { text: string; first: string; again: string };
  done: boolean;
}

export const AGENT_PIN = '2580';

function pickKind(rng: Rng, agent: boolean): Kind {
  const list = KINDS.filter(([k]) => k.startsWith('float') === agent);
  let r = rng.next() * list.reduce((a, [, w]) => a + w, 0);
  for (const [k, w] of list) if ((r -= w) < 0) return k;
  return list[0]![0];
}

function otherPhone(rng: Rng): string {
  return `07${rng.pick(['11', '12', '22', '23', '40', '90'])}${String(rng.int(0, 999_999)).padStart(6, '0')}`;
}

function amount(rng: Rng): string {
  return String(rng.int(1, 30) * 10);
}

function inputsFor(kind: Kind, rng: Rng, cancel: boolean): string[] {
  const confirm = cancel ? '2' : '1';
  switch (kind) {
    case 'airtime_self':
      return ['1', '1', amount(rng), confirm];
    case 'airtime_other':
      return ['1', '2', otherPhone(rng), amount(rng), confirm];
    case 'bundle':
      return ['2', String(rng.int(1, 3)), '1', confirm];
    case 'bill':
      return rng.chance(0.5)
        ? ['3', '1', String(rng.int(10_000_000_000, 99_999_999_999)), amount(rng), confirm]
        : ['3', '3', String(rng.int(1_000_000_000, 9_999_999_999)), amount(rng), confirm];
    case 'float_airtime':
      return ['6', '2', '1', otherPhone(rng), amount(rng), AGENT_PIN];
    case 'float_bundle':
      return ['6', '2', '2', String(rng.int(1, 3)), otherPhone(rng), AGENT_PIN];
    case 'float_bill':
      return ['6', '2', '3', '1', String(rng.int(10_000_000_000, 99_999_999_999)), amount(rng), AGENT_PIN];
  }
}

/** Draws one purchase for `phone` (an agent's phone buys from float). */
export function plan(n: number, phone: string, agent: boolean, rng: Rng): Purchase {
  const kind = pickKind(rng, agent);
  const mods: string[] = [];
  if (!agent && rng.chance(0.1)) mods.push('cancel');
  if (rng.chance(0.12)) mods.push('confirm_twice');
  if (rng.chance(0.15)) mods.push('repeat_hop');
  return {
    n,
    sessionId: `ATUid_chaos_${n}_${randomUUID().slice(0, 8)}`,
    phone,
    kind,
    mods,
    inputs: inputsFor(kind, rng, mods.includes('cancel')),
    startedAt: Date.now(),
    hops: [],
    lastTold: 'no_reply',
    lastAt: 0,
    done: false,
  };
}

/** Runs the purchase's hops through the balancer; never throws. */
export async function run(p: Purchase, url: string, rng: Rng): Promise<void> {
  const texts = [''];
  for (let i = 0; i < p.inputs.length; i++) texts.push(p.inputs.slice(0, i + 1).join('*'));
  const repeatAt = p.mods.includes('repeat_hop') ? rng.int(0, texts.length - 2) : -1;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    const h = await aggregatorHop(url, p.sessionId, p.phone, text);
    p.hops.push({ text, ...(h.reply !== undefined ? { reply: h.reply } : {}), ...(h.error ? { error: h.error } : {}), ms: h.ms });
    p.last = h.reply;
    p.lastTold = told(h.reply);
    p.lastAt = Date.now();
    const confirming = i === texts.length - 1;
    if ((i === repeatAt || (confirming && p.mods.includes('confirm_twice'))) && h.reply !== undefined) {
      // The aggregator sends the same request again: it must get the very same reply.
      const again = await postHop(url, p.sessionId, p.phone, text);
      p.hops.push({
        text,
        ...(again.reply !== undefined ? { reply: again.reply } : {}),
        ...(again.error ? { error: again.error } : {}),
        ms: again.ms,
        repeat: true,
      });
      // A "still being handled" answer is not remembered by design (the request it waited for owns the reply).
      if (again.reply !== undefined && again.reply !== h.reply && !/still being handled/.test(h.reply) && !p.repeatMismatch)
        p.repeatMismatch = { text, first: h.reply, again: again.reply };
      // The handset shows the answer to the request the aggregator sent last.
      if (again.reply !== undefined && confirming) {
        p.last = again.reply;
        p.lastTold = told(again.reply);
        p.lastAt = Date.now();
      }
    }
    if (h.reply === undefined || !h.reply.startsWith('CON ')) break;
  }
  p.done = true;
}
