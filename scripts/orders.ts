// `npm run orders -- show <id> | list [state] | ipns-unknown` — an order and its history, on Redis
// (REDIS_URL, REDIS_PREFIX). The order id is the "Ref K…" on the subscriber's screen and SMS.
import { key, redis, runCli } from './lib/cli.js';
import { OrderStore } from '../src/payments/order-store.js';
import { IpnStore } from '../src/payments/ipn-store.js';
import { maskPhone } from '../src/log.js';
import { kes } from '../src/payments/catalog.js';

const USAGE = 'usage: npm run orders -- show <id> | list [state] | ipns-unknown';
const store = new OrderStore(redis, key);

async function main(): Promise<number> {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'show' && arg) {
    const o = await store.get(arg.trim().toUpperCase());
    if (!o) {
      console.error(`no order ${arg}`);
      return 1;
    }
    console.log(JSON.stringify({ ...o, phone: maskPhone(o.phone), ...(o.recipient ? { recipient: maskPhone(o.recipient) } : {}) }, null, 2));
    console.log('history:');
    for (const h of await store.history(o.id)) console.log(`  ${h.at}  ${(h.from || '-').padEnd(16)} → ${h.to.padEnd(16)} ${h.cause}`);
    return 0;
  }
  if (cmd === 'list') {
    for (const id of await store.ids()) {
      const o = await store.get(id);
      if (!o || (arg && o.state !== arg)) continue;
      console.log(`${o.id}\t${o.state}\t${o.kind}/${o.pay}\tKES ${kes(o.amountMinor)}\t${maskPhone(o.phone)}\t${o.updatedAt}`);
    }
    return 0;
  }
  if (cmd === 'ipns-unknown') {
    for (const r of await new IpnStore(redis, key).unknown()) console.log(`${r.receivedAt}\t${r.gatewayRef}\t${r.status}\tx${r.count}\t${r.reference ?? ''}`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

await runCli(main);
