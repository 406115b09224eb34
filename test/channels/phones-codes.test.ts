// Phones from several countries (PHONE_COUNTRIES), the channel settings' validation, and
// service codes compared without "*" and "#" (the longest registered code wins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSubscriberPhone, parsePhone } from '../../src/lib/phone.js';
import { loadConfig, ConfigError } from '../../src/config.js';
import { startTestService } from '../support/service.js';

test('subscriber phones: E.164 with or without "+", national forms of the served countries, Kenyan forms as before', () => {
  const countries = ['KE', 'GH', 'TZ'] as const;
  const cases: [string, string | { reason: string }, string?][] = [
    ['+254712345678', '+254712345678', 'KE'],
    ['254712345678', '+254712345678', 'KE'],
    ['0712345678', '+254712345678', 'KE'],
    ['233200585542', '+233200585542', 'GH'], // Hubtel, Arkesel, Nalo: no "+"
    ['+233200585542', '+233200585542', 'GH'],
    ['0200585542', '+233200585542', 'GH'], // national Ghanaian (not a Kenyan mobile)
    ['255762089337', '+255762089337', 'TZ'], // Beem
    ['2348031234567', '+2348031234567', 'NG'], // valid, but not served: the route says so politely
    ['abc', { reason: 'not a number' }],
    ['020123456', { reason: 'not a mobile number' }],
    ['+15555550123', { reason: 'invalid number' }],
  ];
  for (const [raw, want, country] of cases) {
    const r = parseSubscriberPhone(raw, countries);
    if (typeof want === 'string') {
      assert.ok(r.ok, `${raw}: ${JSON.stringify(r)}`);
      assert.equal(r.e164, want, raw);
      assert.equal(r.country, country, raw);
      assert.equal(r.msisdn, want.slice(1), raw);
    } else assert.deepEqual(r, { ok: false, ...want }, raw);
  }
  // The Kenyan-only parser the gateways and SMS use is unchanged.
  assert.equal(parsePhone('233200585542').ok, false);
  assert.equal((parsePhone('0712345678') as { country?: string }).country, 'KE');
});

test('USSD_CHANNELS and PHONE_COUNTRIES: defaults, and one line naming a bad value', () => {
  const c = loadConfig({});
  assert.deepEqual(c.USSD_CHANNELS, ['africastalking', 'hubtel', 'arkesel', 'nalo', 'beem', 'emergent', 'safaricom', 'airtel', 'infobip']);
  assert.deepEqual(c.PHONE_COUNTRIES, ['KE']);
  assert.equal(c.FUNNEL_RETENTION_DAYS, 35);
  assert.equal(c.USSD_REPEAT_WINDOW_MS, 1000);
  assert.deepEqual(loadConfig({ USSD_CHANNELS: ' Hubtel, nalo ,hubtel', PHONE_COUNTRIES: 'ke,gh' }).USSD_CHANNELS, ['hubtel', 'nalo']);
  assert.deepEqual(loadConfig({ PHONE_COUNTRIES: 'ke, gh' }).PHONE_COUNTRIES, ['KE', 'GH']);
  assert.throws(
    () => loadConfig({ USSD_CHANNELS: 'hubtel,mtn' }),
    (e: unknown) => e instanceof ConfigError && /^config: USSD_CHANNELS: unknown channel .*: mtn$/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ PHONE_COUNTRIES: 'KE,XX' }),
    (e: unknown) => e instanceof ConfigError && /^config: PHONE_COUNTRIES: unknown country code .*: XX$/.test(e.message),
  );
  assert.throws(() => loadConfig({ USSD_CHANNELS: ',' }), /config: USSD_CHANNELS: lists no channel/);
  assert.throws(() => loadConfig({ FUNNEL_RETENTION_DAYS: '0' }), /config: FUNNEL_RETENTION_DAYS/);
});

test('service codes compare without "*" and "#", and a start goes to the longest code it extends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'menus-'));
  const main = readFileSync('menus/main.yaml', 'utf8');
  writeFileSync(join(dir, 'a.yaml'), `service_code: "*713#"\n${main}`);
  writeFileSync(
    join(dir, 'b.yaml'),
    `service_code: "*713*4#"\n${main.replace(/Welcome to Kemru Pay/g, 'Welcome to Shop Four').replace(/^id: main$/m, 'id: four')}`,
  );
  const svc = await startTestService({ MENUS_DIR: dir, PHONE_COUNTRIES: 'KE,GH' }, { workers: false });
  try {
    let n = 0;
    const start = async (code: string, message: string) => {
      const r = await fetch(new URL('/ussd/hubtel', svc.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Type: 'Initiation', Mobile: '233200585542', SessionId: `code-${++n}`, ServiceCode: code, Message: message, Sequence: 1 }),
      });
      return ((await r.json()) as { Message: string }).Message;
    };
    assert.match(await start('713', '*713#'), /^Welcome to Kemru Pay/);
    assert.match(await start('*713', '713'), /^Welcome to Kemru Pay/); // no dial string: the ServiceCode
    assert.match(await start('713*4', '*713*4#'), /^Welcome to Shop Four/);
    assert.match(await start('713', '*713*4*1#'), /^Buy airtime for:/); // *713*4# extended by "1"
    assert.match(await start('713', '*713*4*1*00#'), /^Welcome to Shop Four/); // …then home: which menu it is
    assert.match(await start('713', '*713*1*00#'), /^Welcome to Kemru Pay/);
    assert.match(await start('714', '*714#'), /^This service code is not in use/);
    const at = await fetch(new URL('/ussd', svc.url), {
      method: 'POST',
      body: new URLSearchParams({ sessionId: 'code-at', serviceCode: '713*4', phoneNumber: '+254712000601', text: '' }),
    });
    assert.match(await at.text(), /^CON Welcome to Shop Four/);
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
