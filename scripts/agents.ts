// `npm run agents -- add 0712345678 | list | show 0712345678 | remove 0712345678 | unlock 0712345678`
// Operator tool for agents, straight on Redis (REDIS_URL, REDIS_PREFIX). Never prints PINs.
import { config, key, redis, runCli } from './lib/cli.js';
import { AgentStore } from '../src/agents/store.js';

const USAGE = 'usage: npm run agents -- add <phone> | list | show <phone> | remove <phone> | unlock <phone>';

const agents = new AgentStore(redis, key, { maxTries: config.AGENT_MAX_PIN_TRIES, lockS: config.AGENT_LOCK_S });

async function main(): Promise<number> {
  const [cmd, phone] = process.argv.slice(2);
  const needPhone = () => {
    if (!phone || !AgentStore.normalize(phone)) {
      console.error(`invalid or missing phone number\n${USAGE}`);
      return false;
    }
    return true;
  };
  switch (cmd) {
    case 'add': {
      if (!needPhone()) return 2;
      const { agent, created } = await agents.add(phone!);
      console.log(`${created ? 'registered' : 'already registered'}: ${agent.phone} (${agent.status})`);
      if (created) console.log('The agent activates from the menu: My account > Agent services > Activate agent account.');
      return 0;
    }
    case 'list': {
      for (const a of await agents.list()) {
        console.log(`${a.phone}\t${a.status}${a.lockedUntil ? `\tlocked until ${new Date(a.lockedUntil).toISOString()}` : ''}\tsince ${a.createdAt}`);
      }
      return 0;
    }
    case 'show': {
      if (!needPhone()) return 2;
      const a = await agents.get(phone!);
      if (!a) {
        console.error('no such agent');
        return 1;
      }
      console.log(JSON.stringify(a, null, 2));
      return 0;
    }
    case 'remove': {
      if (!needPhone()) return 2;
      console.log((await agents.remove(phone!)) ? 'removed' : 'no such agent');
      return 0;
    }
    case 'unlock': {
      if (!needPhone()) return 2;
      const e164 = AgentStore.normalize(phone!)!;
      await redis.hdel(key('agent', e164.slice(1)), 'lockedUntil');
      await redis.hset(key('agent', e164.slice(1)), 'failedTries', '0');
      console.log('unlocked');
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

await runCli(main);
