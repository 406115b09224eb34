#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with node's test runner (through tsx).
// When REDIS_URL is unset it starts a private redis-server on a free port, so tests never
// touch a developer's data. Extra arguments filter test files by substring.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => { c.destroy(); resolve(d.toString().startsWith('+PONG')); });
    c.on('error', () => resolve(false));
  });
}

async function startRedis() {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
  proc.on('error', (err) => {
    console.error(`cannot start redis-server (${err.message}); install it (apt-get install -y redis-server) or set REDIS_URL`);
    process.exit(1);
  });
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}`, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('private redis-server did not answer');
}

const filters = process.argv.slice(2);
const files = findTests('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

let redis;
const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' };
if (!env.REDIS_URL) {
  redis = await startRedis();
  env.REDIS_URL = redis.url;
  console.log(`# private redis at ${redis.url}`);
}

const args = ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit', env });
const stop = () => redis?.proc.kill('SIGTERM');
process.on('SIGINT', () => { child.kill('SIGINT'); stop(); });
child.on('exit', (code, signal) => {
  stop();
  process.exit(code ?? (signal ? 1 : 0));
});
