// The deadline, afterReply, bad input, Redis down or slow, logs, and a test menu with long
// lists (paging over several pages) and non-GSM characters.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { startTestService } from '../support/service.js';
import { startPrivateRedis } from '../../scripts/lib/private-redis.mjs';
import { Phone, post } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';
import { captureLogger } from '../support/log.js';

const SHOP = '*860*31#';
const { logger, lines } = captureLogger('info');
const DEADLINE = 1000;
// A Redis of this file's own: the round-trip test below counts commands with MONITOR, which must
// see only this file's traffic (and ioredis cannot parse a monitor stream carrying other files'
// 1,000-number bulk writes: "Command queue state error", then a hang), and SCRIPT FLUSH below
// would otherwise reach every other file's service.
const redis = await startPrivateRedis({ stderr: 'ignore' });
const svc = await startTestService(
  { REDIS_URL: redis.url, MENUS_DIR: 'test/fixtures/menus/good', USSD_DEADLINE_MS: String(DEADLINE) },
  { workers: false, logger },
);
after(async () => {
  await svc.close();
  await redis.stop();
});
// Warm the code paths and the script cache so the timing below measures the engine, not start-up.
await post(svc.url, { sessionId: 'warm', phoneNumber: '0712000000', serviceCode: '*860*31#' });

let n = 0;
const num = () => `+2547440${String(++n).padStart(5, '0')}`;

test('an action that never resolves: the processing END arrives before USSD_DEADLINE_MS', async () => {
  let aborted = false;
  let calls = 0;
  svc.app.actions.register('test_slow', (ctx) => {
    calls++;
    ctx.signal.addEventListener('abort', () => {
      aborted = true;
    });
    return new Promise(() => undefined);
  });
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  const t0 = Date.now();
  const r = await p.send('1');
  const ms = Date.now() - t0;
  assert.equal(r, 'END We are processing your request. You will receive an SMS.');
  assert.ok(ms < DEADLINE, `${ms} ms`);
  assert.ok(aborted, 'the action saw the deadline');
  // The aggregator retries: same reply, the action is not started again.
  assert.equal((await post(svc.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, serviceCode: SHOP, text: '1' })).body, r);
  assert.equal(calls, 1);
});

test('a retry arriving while the action runs waits for it and gets the same reply', async () => {
  let calls = 0;
  svc.app.actions.register('test_slow', async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 150));
    return { outcome: 'success', vars: { ref: 'X9' } };
  });
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  const body = { sessionId: p.sessionId, phoneNumber: p.phoneNumber, serviceCode: SHOP, text: '1' };
  const first = post(svc.url, body);
  await new Promise((r) => setTimeout(r, 40));
  const [a, b] = await Promise.all([first, post(svc.url, body)]);
  assert.equal(a.body, "END Done:  'ok' X9");
  assert.equal(b.body, a.body);
  assert.equal(calls, 1);
});

test('afterReply callbacks run only after the reply is sent, and a late action may still register one', async () => {
  let ran = 0;
  let ranDuringAction = false;
  svc.app.actions.register('test_slow', async (ctx) => {
    ctx.afterReply(() => {
      ran++;
    });
    await new Promise((r) => setTimeout(r, 30));
    ranDuringAction = ran > 0;
    return { outcome: 'success' };
  });
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  assert.match(await p.send('1'), /^END Done/);
  await waitFor(() => (ran === 1 ? true : undefined));
  assert.equal(ranDuringAction, false);

  let lateRan = false;
  svc.app.actions.register('test_slow', async (ctx) => {
    await new Promise((r) => setTimeout(r, DEADLINE + 100));
    ctx.afterReply(() => {
      lateRan = true;
    });
    return { outcome: 'success' };
  });
  const q = new Phone(svc.url, num(), SHOP);
  await q.dial();
  assert.match(await q.send('1'), /^END We are processing/);
  await waitFor(() => (lateRan ? true : undefined));
});

test('a throwing action or an unknown outcome is a failure screen, never a stack trace', async () => {
  svc.app.actions.register('test_slow', async () => {
    throw new Error('ECONNRESET secret-host:1234');
  });
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  assert.equal(await p.send('1'), 'END Failed. ');
  svc.app.actions.register('test_slow', async () => ({ outcome: 'weird', reason: { en: 'Try later.', sw: 'Jaribu baadaye.' } }));
  const q = new Phone(svc.url, num(), SHOP);
  await q.dial();
  assert.equal(await q.send('1'), 'END Failed. Try later.');
});

test('text from the menu file is sanitized to GSM-7', async () => {
  const p = new Phone(svc.url, num(), SHOP);
  const home = await p.dial();
  assert.equal(home, 'CON "Duka" - pick one\n1 Slow thing\n2 Long list\n3 Two steps');
});

test('a 20-item list pages with 98 More / 0 Back; numbers stay global; every page fits', async () => {
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  const pages = [await p.send('2')];
  for (let i = 0; i < 10 && pages.at(-1)!.includes('\n98 More'); i++) pages.push(await p.send('98'));
  assert.ok(pages.length >= 3, `${pages.length} pages`);
  for (const pg of pages) assert.ok(pg.length - 4 <= 182, pg);
  assert.doesNotMatch(pages.at(-1)!, /98 More/);
  assert.match(pages.at(-1)!, /20 Watermelon from the field\n0 Back$/);
  assert.match(pages[0]!, /^CON Pick a fruit:\n1 Apple/);
  const shown = pages
    .join('\n')
    .match(/^\d+ (?!More|Back)/gm)!
    .map((s) => Number(s.trim()));
  assert.deepEqual(
    shown,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  // "98" on the last page is a wrong option; "0" steps back a page.
  assert.match(await p.send('98'), /^CON Invalid choice, try again\.\nPick a fruit:/);
  assert.equal(await p.send('0'), pages.at(-2));
  assert.match(await p.send('12'), /^END Done: mango/);
});

test('bad requests: missing fields, bad phone, oversized body → 400 with one log line', async () => {
  const before = lines.length;
  const form = (o: Record<string, string>) =>
    fetch(`${svc.url}/ussd`, { method: 'POST', body: new URLSearchParams(o), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const r1 = await form({ serviceCode: SHOP, phoneNumber: '0712345678', text: '' });
  assert.equal(r1.status, 400);
  assert.match(await r1.text(), /missing sessionId/);
  const r2 = await form({ sessionId: 'a1', serviceCode: SHOP, text: '' });
  assert.equal(r2.status, 400);
  assert.match(await r2.text(), /missing phoneNumber/);
  for (const bad of ['abc', '+15555550123', '0712', '020123456']) {
    const r = await form({ sessionId: 'a2', serviceCode: SHOP, phoneNumber: bad, text: '' });
    assert.equal(r.status, 400, bad);
    assert.match(await r.text(), /invalid phoneNumber/);
  }
  const big = await form({ sessionId: 'a3', serviceCode: SHOP, phoneNumber: '0712345678', text: 'x'.repeat(20_000) });
  assert.equal(big.status, 400);
  const rejected = lines.slice(before).filter((l) => /ussd request rejected/.test(l));
  assert.equal(rejected.length, 7);
  assert.ok(rejected.every((l) => !/0712345678|15555550123/.test(l)));
});

test('every phone form is the same subscriber; JSON bodies are accepted too', async () => {
  const sessionId = `S${randomUUID()}`;
  for (const [i, phoneNumber] of ['+254712000777', '254712000777', '0712000777', '712000777'].entries()) {
    const r = await post(svc.url, { sessionId, phoneNumber, serviceCode: SHOP, text: ['', '2', '2*98', '2*98*98'][i] });
    assert.equal(r.status, 200);
    assert.match(r.body, /^CON /);
  }
  const key = await svc.app.redis.get(`${svc.app.config.REDIS_PREFIX}resume:254712000777`);
  assert.ok(key?.startsWith(sessionId));
  const json = await fetch(`${svc.url}/ussd/africastalking`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId: `S${randomUUID()}`, serviceCode: SHOP, phoneNumber: '0712000778', networkCode: '63902', text: '' }),
  });
  assert.equal(json.status, 200);
  assert.match(await json.text(), /^CON "Duka"/);
});

test('unknown serviceCode gets END with a clear message; unknown channel is 404', async () => {
  const r = await post(svc.url, { sessionId: 'u1', serviceCode: '*999#', text: '' });
  assert.equal(r.status, 200);
  assert.match(r.body, /^END This service code is not in use\./);
  const c = await post(svc.url, { sessionId: 'u2', serviceCode: SHOP }, '/ussd/nosuch');
  assert.equal(c.status, 404);
  assert.equal(c.body, 'unknown channel');
  // POST /ussd is served ahead of the router: the router still answers other methods and paths.
  const g = await fetch(`${svc.url}/ussd`);
  assert.equal(g.status, 405);
  assert.match(g.headers.get('allow') ?? '', /POST/);
  assert.equal((await post(svc.url, { sessionId: 'u3', serviceCode: SHOP }, '/ussd/%E0%A4%A')).status, 404);
  assert.equal((await post(svc.url, { sessionId: 'u4', serviceCode: SHOP }, '/ussd/africastalking/extra')).status, 404);
  const slash = await post(svc.url, { sessionId: `S${randomUUID()}`, phoneNumber: num(), serviceCode: SHOP }, '/ussd/');
  assert.equal(slash.status, 200);
  assert.match(slash.body, /^CON "Duka"/);
});

test('a hop that lost its lock between chained actions does not start the next action', async () => {
  // Step 1 stands in for a hop that stalled past its lock while an aggregator retry on another
  // instance took the session over (its lock now holds another token).
  let step2 = 0;
  svc.app.actions.register('test_step1', async (ctx) => {
    await svc.app.redis.set(`${svc.app.config.REDIS_PREFIX}sesslock:${ctx.sessionId}`, 'another-instance', 'PX', 5000);
    return { outcome: 'success' };
  });
  svc.app.actions.register('test_step2', async () => {
    step2++;
    return { outcome: 'success', vars: { ref: 'S2' } };
  });
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  const r = await p.send('3');
  // The action was never started, so no SMS is promised.
  assert.equal(r, 'END Your previous request is still being handled. Please dial again shortly.');
  assert.equal(step2, 0, 'step 2 never started without its state saved under our lock');
  assert.equal(await svc.app.redis.get(`${svc.app.config.REDIS_PREFIX}sesslock:${p.sessionId}`), 'another-instance', 'the other lock is left alone');
});

test('a burst of duplicates does not cost the next hop its single round trip', async () => {
  const p = new Phone(svc.url, num(), SHOP);
  await p.dial();
  p.text = '2';
  const burst = await Promise.all(
    Array.from({ length: 20 }, () => post(svc.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, serviceCode: SHOP, text: p.text })),
  );
  assert.equal(new Set(burst.map((b) => b.body)).size, 1);
  // Count the scripts this session's next hop sends (MONITOR sees every command; those run
  // inside a script come from "lua" and are not round trips).
  const monitor = await svc.app.redis.monitor();
  const scripts: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && /^eval/i.test(args[0] ?? '') && args.some((a) => a.includes(p.sessionId))) scripts.push(args[0]!);
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.match(await p.send('98'), /^CON /);
  await new Promise((r) => setTimeout(r, 100));
  monitor.disconnect();
  assert.deepEqual(
    scripts.map((s) => s.toLowerCase()),
    ['evalsha'],
  );
});

test('Redis forgets its scripts mid-session (restart, SCRIPT FLUSH): the next hop sends them again', async () => {
  const p = new Phone(svc.url, num(), SHOP);
  assert.match(await p.dial(), /^CON "Duka"/);
  await svc.app.redis.script('FLUSH');
  const r = await p.send('2');
  assert.match(r, /^CON /);
  assert.doesNotMatch(r, /"Duka"/, 'the session advanced past the home screen');
  // The repeat of that hop is answered from the record the re-sent script saved.
  assert.equal((await post(svc.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, serviceCode: SHOP, text: p.text })).body, r);
});

test('one JSON log line per hop: sessionId, channel, screen, latency, outcome; phone masked, no PIN', async () => {
  const before = lines.length;
  const p = new Phone(svc.url, '+254712345999', SHOP);
  await p.dial();
  await p.send('2');
  const hops = lines
    .slice(before)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'ussd hop');
  assert.equal(hops.length, 2);
  assert.deepEqual(
    hops.map((h) => h.screen),
    ['home', 'fruits'],
  );
  for (const h of hops) {
    assert.equal(h.sessionId, p.sessionId);
    assert.equal(h.channel, 'africastalking');
    assert.equal(h.phone, '2547****5999');
    assert.equal(typeof h.ms, 'number');
    assert.equal(h.outcome, 'con');
  }
  assert.ok(!lines.join('').includes('712345999'));
  assert.match(await svc.app.metrics.render(), /ussd_hops_total\{channel="africastalking",outcome="con"\} \d+/);
});

test('Redis down: a polite END, never silence or a stack trace', async () => {
  const down = await startTestService({ REDIS_URL: 'redis://127.0.0.1:1' }, { workers: false });
  try {
    const r = await post(down.url, { sessionId: 'd1', phoneNumber: '0712345678' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'END Service temporarily unavailable, please try again.');
  } finally {
    await down.close();
  }
});

test('Redis slow: the reply still comes before the deadline', async () => {
  // A TCP proxy in front of the test Redis whose replies can be delayed.
  let delay = 0;
  const target = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      setTimeout(() => client.write(d), delay);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as net.AddressInfo).port;
  const slow = await startTestService(
    { REDIS_URL: `redis://127.0.0.1:${port}`, MENUS_DIR: 'test/fixtures/menus/good', USSD_DEADLINE_MS: String(DEADLINE) },
    { workers: false },
  );
  try {
    const p = new Phone(slow.url, num(), SHOP);
    assert.match(await p.dial(), /^CON "Duka"/);
    delay = 2 * DEADLINE;
    const t0 = Date.now();
    const r = await post(slow.url, { sessionId: p.sessionId, phoneNumber: p.phoneNumber, serviceCode: SHOP, text: '2' });
    const ms = Date.now() - t0;
    assert.equal(r.body, 'END Service temporarily unavailable, please try again.');
    assert.ok(ms < DEADLINE, `${ms} ms`);
    delay = 0;
  } finally {
    await slow.close();
    proxy.close();
  }
});
