// Drop-off analytics: Africa's Talking's end-of-session notifications, the other channels' end
// signals and the hops themselves feed per-screen daily counts in Redis, served by
// GET /api/ussd/funnel and as Prometheus counters.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { Funnel } from '../../src/ussd/funnel.js';
import { loadMenuDir } from '../../src/menus/load.js';

const RETENTION = 3;
const svc = await startTestService({ FUNNEL_RETENTION_DAYS: String(RETENTION), RESUME_WINDOW_S: '0', PHONE_COUNTRIES: 'KE,GH' }, { workers: false });
after(() => svc.close());
const TOKEN = svc.app.config.API_TOKEN!;
const today = () => new Date(Date.now() + svc.app.config.FUNNEL_UTC_OFFSET_MIN * 60_000).toISOString().slice(0, 10);

async function at(sessionId: string, text: string, phone = '+254711000501'): Promise<string> {
  const r = await fetch(new URL('/ussd', svc.url), {
    method: 'POST',
    body: new URLSearchParams({ sessionId, serviceCode: '*860*30#', phoneNumber: phone, networkCode: '63902', text }),
  });
  return r.text();
}
async function atEnd(sessionId: string, status: string, errorMessage = '', phone = '+254711000501'): Promise<number> {
  const r = await fetch(new URL('/ussd/africastalking/events', svc.url), {
    method: 'POST',
    body: new URLSearchParams({
      date: '2025-06-01 10:00:00',
      sessionId,
      serviceCode: '*860*30#',
      networkCode: '63902',
      phoneNumber: phone,
      status,
      cost: 'KES 0.00',
      durationInMillis: '9000',
      hopsCount: '2',
      input: '',
      lastAppResponse: 'CON …',
      errorMessage,
    }),
  });
  return r.status;
}
async function hubtel(sid: string, type: string, msg: string, seq: number): Promise<void> {
  const r = await fetch(new URL('/ussd/hubtel', svc.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Type: type, Mobile: '233200585542', SessionId: sid, ServiceCode: '860*30', Message: msg, Sequence: seq }),
  });
  assert.equal(r.status, 200);
}
async function funnel(query: string, token: string | undefined = TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(new URL(`/api/ussd/funnel?${query}`, svc.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test('sessions entering, completing, dropping, timing out and failing are counted per screen', async () => {
  // A walks to "Buy airtime for" and hangs up (AT: Incomplete); its notification comes twice.
  await at('fA', '');
  await at('fA', '1');
  assert.equal(await atEnd('fA', 'Incomplete'), 200);
  assert.equal(await atEnd('fA', 'Incomplete'), 200);
  // B walks to Cancel: our END completes it; AT's Success adds nothing.
  for (const t of ['', '1', '1*2', '1*2*0733000111', '1*2*0733000111*100', '1*2*0733000111*100*2']) await at('fB', t);
  assert.equal(await atEnd('fB', 'Success'), 200);
  // C and D: AT gave up on the main menu, once for slowness, once for an error.
  await at('fC', '');
  assert.equal(await atEnd('fC', 'Failed', 'Session timed out waiting for the application'), 200);
  await at('fD', '');
  assert.equal(await atEnd('fD', 'Failed', 'Invalid response from the application'), 200);
  // E (Hubtel) deep-links to the phone prompt, and Hubtel reports our answer too late.
  await hubtel('fE', 'Initiation', '*860*30*1*2#', 1);
  await hubtel('fE', 'Timeout', '', 2);
  // A notification for a session we never saw counts nothing.
  assert.equal(await atEnd('fZ', 'Incomplete'), 200);

  const { status, body } = await funnel('serviceCode=*860*30%23');
  assert.equal(status, 200);
  assert.equal(body.serviceCode, '*860*30#');
  assert.equal(body.from, today());
  assert.equal(body.to, today());
  const rows = new Map((body.screens as { screen: string }[]).map((r) => [r.screen, r]));
  const z = { entered: 0, completed: 0, dropped: 0, timedOut: 0, errors: 0 };
  assert.deepEqual(rows.get('main'), { ...z, screen: 'main', entered: 4, timedOut: 1, errors: 1 });
  assert.deepEqual(rows.get('airtime_for'), { ...z, screen: 'airtime_for', entered: 2, dropped: 1 });
  assert.deepEqual(rows.get('airtime_phone'), { ...z, screen: 'airtime_phone', entered: 2, timedOut: 1 });
  assert.deepEqual(rows.get('airtime_amount'), { ...z, screen: 'airtime_amount', entered: 1 });
  assert.deepEqual(rows.get('airtime_confirm'), { ...z, screen: 'airtime_confirm', entered: 1 });
  assert.deepEqual(rows.get('cancelled'), { ...z, screen: 'cancelled', entered: 1, completed: 1 });
  assert.deepEqual(rows.get('bundle_pick'), { ...z, screen: 'bundle_pick' });
  // Screens in the menu's order, the start first; action screens only when something happened there.
  assert.equal((body.screens as { screen: string }[])[0]!.screen, 'main');
  assert.ok(!rows.has('airtime_do'));

  // The same counts as Prometheus counters, and each end signal by how it ended.
  const m = await svc.app.metrics.render();
  assert.match(m, /ussd_funnel_total\{event="dropped",screen="airtime_for",service_code="860\*30"\} 1\n/);
  assert.match(m, /ussd_funnel_total\{event="entered",screen="main",service_code="860\*30"\} 4\n/);
  assert.match(m, /ussd_session_ends_total\{channel="africastalking",found="already",how="dropped"\} 1\n/);
  assert.match(m, /ussd_session_ends_total\{channel="hubtel",found="closed",how="timedOut"\} 1\n/);

  // Kept in Redis as one hash per code and day, expiring RETENTION days after the day ends.
  const key = `${svc.app.config.REDIS_PREFIX}funnel:860*30:${today()}`;
  assert.equal(await svc.app.redis.hget(key, 'airtime_for|dropped'), '1');
  const ttl = await svc.app.redis.ttl(key);
  assert.ok(ttl > RETENTION * 86400 && ttl <= (RETENTION + 1) * 86400, `ttl ${ttl}`);
  // After a notification closed it, the session takes no more hops.
  assert.equal(await at('fA', '1*1'), 'END This session has ended. Please dial again.');
});

test('GET /api/ussd/funnel: token, service code forms, dates and range', async () => {
  assert.equal((await funnel('serviceCode=860*30', '')).status, 401);
  assert.equal((await funnel('serviceCode=860*30', 'wrong-token-0123456789')).status, 401);
  for (const code of ['860*30', '*860*30', '*860*30%23']) assert.equal((await funnel(`serviceCode=${code}`)).status, 200, code);
  assert.deepEqual(await funnel('serviceCode=999'), { status: 404, body: { error: 'no menu answers service code 999' } });
  assert.deepEqual(await funnel(''), { status: 400, body: { error: 'serviceCode is required' } });
  assert.deepEqual(await funnel('serviceCode=860*30&from=2025-02-30'), { status: 400, body: { error: 'from must be a date YYYY-MM-DD' } });
  assert.deepEqual(await funnel('serviceCode=860*30&from=2025-06-02&to=2025-06-01'), { status: 400, body: { error: 'from is after to' } });
  assert.deepEqual(await funnel('serviceCode=860*30&from=2025-06-01&to=2025-06-04'), {
    status: 400,
    body: { error: `at most ${RETENTION} days (FUNNEL_RETENTION_DAYS) at once` },
  });
  const past = await funnel('serviceCode=860*30&from=2025-06-01&to=2025-06-03');
  assert.equal(past.status, 200);
  assert.ok((past.body.screens as { entered: number }[]).every((r) => r.entered === 0));
});

test('a Redis outage keeps one pending count per cell and day, written once Redis answers again', async () => {
  const [menu] = loadMenuDir('menus', { defaultServiceCode: '*860*30#', keys: { back: '0', home: '00', more: '98' }, screenMaxChars: 182 });
  let down = true;
  const redis = {
    multi: () => {
      const ops: unknown[][] = [];
      const m = {
        hincrby: (...a: unknown[]) => {
          ops.push(['hincrby', ...a]);
          return m;
        },
        expireat: (...a: unknown[]) => {
          ops.push(['expireat', ...a]);
          return m;
        },
      };
      return {
        ...m,
        exec: async () => {
          if (down) throw new Error('connection is closed');
          written.push(...ops);
          return [];
        },
      };
    },
  };
  const written: unknown[][] = [];
  const app = { ...svc.app, redis, logger: { warn: () => undefined } } as unknown as typeof svc.app;
  const f = new Funnel(app, () => menu);
  for (let i = 0; i < 50; i++) {
    f.count('860*30', 'main', 'entered');
    f.count('860*30', 'airtime_for', 'dropped');
    await f.flush();
  }
  const spill = (f as unknown as { spill: unknown[] }).spill;
  assert.equal(spill.length, 0); // the same day: merged back into the cells
  down = false;
  await f.flush();
  const incr = written
    .filter((o) => o[0] === 'hincrby')
    .map((o) => `${o[2]}=${o[3]}`)
    .sort();
  assert.deepEqual(incr, ['airtime_for|dropped=50', 'main|entered=50']);
});

test('memory stays bounded: only menu codes and screens get cells; anything else is "-" or nothing', async () => {
  const [menu] = loadMenuDir('menus', { defaultServiceCode: '*860*30#', keys: { back: '0', home: '00', more: '98' }, screenMaxChars: 182 });
  const f = new Funnel(svc.app, (code) => (code === '860*30' ? menu : undefined));
  f.count('860*30', 'no_such_screen', 'errors');
  f.count('860*30', 'another_unknown', 'errors');
  f.count('999', 'main', 'entered'); // no menu answers it: not counted at all
  f.count('860*30', 'main', 'entered');
  const cells = (f as unknown as { cells: Map<string, Map<string, unknown[]>> }).cells;
  assert.deepEqual([...cells.keys()], ['860*30']);
  assert.deepEqual([...cells.get('860*30')!.keys()].sort(), ['-', 'main']);
  const rows = await f.query(menu!, '860*30', f.today(), f.today());
  assert.equal(rows.at(-1)!.screen, '-');
  assert.ok(rows.at(-1)!.errors >= 2);
  await f.stop();
});
