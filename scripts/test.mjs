#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with node's test runner (through tsx).
// When REDIS_URL is unset it starts a private redis-server on a free port, so tests never
// touch a developer's data. Extra arguments filter test files by substring.
// `npm run test:unit` (--unit): only the *.unit.test.ts files, which need no Redis, no service
// and no network: seconds, for the edit-test loop.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startPrivateRedis } from './lib/private-redis.mjs';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const unit = process.argv.includes('--unit');
const filters = process.argv.slice(2).filter((a) => a !== '--unit');
const files = findTests('test')
  .filter((f) => !unit || f.endsWith('.unit.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

let redis;
const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' };
if (!env.REDIS_URL && !unit) {
  redis = await startPrivateRedis();
  env.REDIS_URL = redis.url;
  console.log(`# private redis at ${redis.url}`);
}

const args = ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit', env });
const stop = () => redis?.proc.kill('SIGTERM');
process.on('SIGINT', () => {
  child.kill('SIGINT');
  stop();
});
child.on('exit', (code, signal) => {
  stop();
  process.exit(code ?? (signal ? 1 : 0));
});
