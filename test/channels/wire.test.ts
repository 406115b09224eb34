// Every channel, table-driven from raw wire payloads (test/fixtures/channels/<channel>.json):
// each session's requests exactly as the aggregator sends them and the exact responses it must
// get, then the malformed ones (400 with the reason, one log line, nothing written). Against the
// real service over HTTP with the real Redis.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestService } from '../support/service.js';
import { captureLogger } from '../support/log.js';

const DIR = 'test/fixtures/channels';

interface Expect {
  status: number;
  type?: string;
  headers?: Record<string, string>;
  text?: string;
  json?: unknown;
}
interface Step {
  path?: string;
  method?: string;
  send?: Record<string, unknown>;
  raw?: string;
  contentType?: string;
  query?: string;
  waitMs?: number;
  expect: Expect;
}
interface Fixture {
  channel: string;
  confidence: string;
  method: 'GET' | 'POST';
  path?: string;
  body: 'form' | 'json' | 'query';
  sessions: { name: string; steps: Step[] }[];
  malformed: Step[];
}

const { logger, lines } = captureLogger('warn');
// Ghana and Tanzania are served here (their aggregators' samples use their numbers); the repeat
// window is short so the fixtures wait little between a subscriber's answers.
const svc = await startTestService({ PHONE_COUNTRIES: 'KE,GH,TZ', RESUME_WINDOW_S: '0', USSD_REPEAT_WINDOW_MS: '300' }, { workers: false, logger });
after(() => svc.close());

async function send(fx: Fixture, step: Step): Promise<{ status: number; type: string; headers: Headers; body: string }> {
  if (step.waitMs) await new Promise((r) => setTimeout(r, step.waitMs));
  const method = step.method ?? fx.method;
  const url = new URL(step.path ?? fx.path!, svc.url);
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (step.raw !== undefined) {
    body = step.raw;
    headers['content-type'] = step.contentType ?? 'application/json';
  } else if (step.query !== undefined) {
    url.search = step.query;
  } else if (fx.body === 'query') {
    for (const [k, v] of Object.entries(step.send ?? {})) url.searchParams.set(k, String(v));
  } else if (fx.body === 'form') {
    body = new URLSearchParams(step.send as Record<string, string>).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else {
    body = JSON.stringify(step.send);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: await res.text() };
}

function check(got: Awaited<ReturnType<typeof send>>, want: Expect, where: string): void {
  assert.equal(got.status, want.status, `${where}: status (body ${got.body})`);
  if (want.type) assert.equal(got.type, want.type, `${where}: content-type`);
  for (const [h, v] of Object.entries(want.headers ?? {})) assert.equal(got.headers.get(h), v, `${where}: header ${h}`);
  if (want.text !== undefined) assert.equal(got.body, want.text, where);
  if (want.json !== undefined) assert.deepEqual(JSON.parse(got.body), want.json, where);
}

const sessionKeys = async () => (await svc.app.redis.keys(`${svc.app.config.REDIS_PREFIX}sess*`)).sort();

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
test('every channel has a fixture file', () => {
  assert.deepEqual(
    files.map((f) => f.replace(/\.json$/, '')),
    ['africastalking', 'airtel', 'arkesel', 'beem', 'emergent', 'hubtel', 'infobip', 'nalo', 'safaricom'],
  );
});

for (const file of files) {
  const fx = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Fixture;
  describe(`${fx.channel} (${fx.confidence})`, () => {
    for (const s of fx.sessions) {
      test(s.name, async () => {
        for (const [i, step] of s.steps.entries()) check(await send(fx, step), step.expect, `${file}: ${s.name}: step ${i + 1}`);
      });
    }
    test('malformed requests get 400 with the reason and one log line, and write nothing', async () => {
      const before = await sessionKeys();
      for (const [i, step] of fx.malformed.entries()) {
        const logged = lines.length;
        const where = `${file}: malformed ${i + 1}`;
        check(await send(fx, step), step.expect, where);
        const rejected = lines.slice(logged).filter((l) => /ussd (request|end notification) rejected/.test(l));
        assert.equal(rejected.length, 1, `${where}: one log line`);
      }
      assert.deepEqual(await sessionKeys(), before);
    });
  });
}

test('an unknown channel is 404; a known one with the wrong method is 405', async () => {
  for (const path of ['/ussd/nosuch', '/ussd/%E0%A4%A', '/ussd/hubtel/extra', '/ussd/infobip']) {
    const r = await fetch(new URL(path, svc.url), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 404, path);
  }
  const g = await fetch(new URL('/ussd/hubtel', svc.url));
  assert.equal(g.status, 405);
  assert.equal(g.headers.get('allow'), 'POST');
  const p = await fetch(new URL('/ussd/safaricom', svc.url), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(p.status, 405);
  assert.equal(p.headers.get('allow'), 'GET');
});

test('a channel left out of USSD_CHANNELS answers 404', async () => {
  const only = await startTestService({ USSD_CHANNELS: 'africastalking,hubtel' }, { workers: false });
  try {
    const r = await fetch(new URL('/ussd/arkesel', only.url), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 404);
    assert.equal(await r.text(), 'unknown channel');
    const h = await fetch(new URL('/ussd/hubtel', only.url), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(h.status, 400);
  } finally {
    await only.close();
  }
});
