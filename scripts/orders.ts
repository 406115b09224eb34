// `npm run orders -- show <id> | list [state] | attention | retry <id> | close <id> <reason…> | ipns-unknown`
// Orders and their history, from Redis (REDIS_URL, REDIS_PREFIX). The order id is the "Ref K…"
// on the subscriber's screen and SMS. `retry` and `close` act through the running service's API
// (ORDERS_API_URL, default http://127.0.0.1:$PORT, with API_TOKEN), so the step runs where the
// workers run and the history records who did it.
import { config, key, redis, runCli } from './lib/cli.js';
import { OrderStore } from '../src/payments/order-store.js';
import { IpnStore } from '../src/payments/ipn-store.js';
import { maskPhone } from '../src/log.js';
import { kes } from '../src/payments/catalog.js';

const USAGE = 'usage: npm run orders -- show <id> | list [state] | attention | retry <id> | close <id> <reason…> | ipns-unknown';
const store = new OrderStore(redis, key);

async function api(path: string): Promise<{ status: number; json: { error?: string; order?: { state: string } } }> {
  if (!config.API_TOKEN) throw new Error("API_TOKEN is not set: retry and close go through the service's API");
  const base = (process.env.ORDERS_API_URL ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
  const [, id, action, reason] = path.match(/^(\w+)\/(\w+)(?:\n([\s\S]*))?$/) ?? [];
  const r = await fetch(`${base}/api/orders/${id}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(reason !== undefined ? { reason } : {}),
  });
  return { status: r.status, json: (await r.json().catch(() => ({}))) as { error?: string } };
}

async function main(): Promise<number> {
  const [cmd, arg, ...rest] = process.argv.slice(2);
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
  if (cmd === 'attention') {
    const ids = await store.list({ state: 'needs_attention', limit: 1000 });
    for (const id of ids) {
      const o = await store.get(id);
      if (o)
        console.log(
          `${o.id}\t${o.kind}/${o.pay}\tKES ${kes(o.amountMinor)}\t${maskPhone(o.phone)}\t${o.updatedAt}\t${o.attentionStep ?? ''}\t${o.attention ?? ''}`,
        );
    }
    console.error(`${ids.length} order(s) need attention`);
    return 0;
  }
  if ((cmd === 'retry' && arg) || (cmd === 'close' && arg && rest.length)) {
    const id = arg.trim().toUpperCase();
    const r = await api(cmd === 'close' ? `${id}/close\n${rest.join(' ')}` : `${id}/retry`);
    if (r.status !== 200) {
      console.error(`${cmd} ${id}: ${r.json.error ?? `HTTP ${r.status}`}`);
      return 1;
    }
    console.log(`${id}: ${r.json.order?.state}`);
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
