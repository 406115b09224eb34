// Bulk SMS for marketers: {column} placeholders filled from CSV columns (and JSON objects),
// recipients grouped by identical text into batches of at most 1,000, a dry run (first
// messages, parts, cost; nothing written or sent), a scheduled send time, and the campaign list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api } from '../support/api.js';
import { nsn } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const svc = await startTestService({ SMS_PRICE_PER_PART_MINOR: '80', SMS_DUPLICATE_WINDOW_S: '0' });
after(() => svc.close());
const url = svc.url;

const csv = (rows: string[]) => `phone,Name,plan\n${rows.join('\n')}\n`;

test('{column} placeholders are filled from CSV columns; identical texts share a batch', async () => {
  const before = (await sandboxSms(url)).length;
  const body = csv([
    '0712000701,Wanjiku,Gold',
    '0712000702,Otieno,Gold',
    '0712000703,Wanjiku,Gold',
    '0712000704,,Gold', // no name: reported, not sent as "Habari ,"
    '0712000701,Wanjiku,Gold', // a duplicate
  ]);
  const r = await api(url, 'POST', `/api/sms/bulk?message=${encodeURIComponent('Habari {name}, your {PLAN} plan renews today.')}`, body, {
    'content-type': 'text/csv',
  });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.equal(r.json.valid, 3);
  assert.equal(r.json.invalid, 1);
  assert.equal(r.json.duplicates, 1);
  assert.equal(r.json.batches, 2, 'two distinct texts: two batches');
  assert.equal(r.json.smsParts, 3);
  assert.equal(r.json.costMinor, 240);
  const sent = await waitFor(
    async () => {
      const all = (await sandboxSms(url)).slice(before);
      return all.length >= 2 ? all : undefined;
    },
    { what: 'both batches sent', timeoutMs: 15000, everyMs: 100 },
  );
  const byText = new Map(sent.map((m) => [m.message, m.recipients.map(nsn).sort()]));
  assert.deepEqual(byText.get('Habari Wanjiku, your Gold plan renews today.'), ['712000701', '712000703']);
  assert.deepEqual(byText.get('Habari Otieno, your Gold plan renews today.'), ['712000702']);
  assert.ok(![...byText.keys()].some((t) => t.includes('{')), 'no placeholder sent literally');
  const status = await api(url, 'GET', `/api/sms/bulk/${r.json.id}`);
  assert.deepEqual(status.json.invalidSample, [{ input: '0712000704', reason: 'no value for {name}' }]);
  assert.equal(status.json.templated, true);
});

test('a placeholder naming no column is refused before anything is queued', async () => {
  const r = await api(url, 'POST', `/api/sms/bulk?message=${encodeURIComponent('Hi {nickname}')}`, csv(['0712000710,A,B']), { 'content-type': 'text/csv' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'UNKNOWN_PLACEHOLDER');
  assert.match(r.json.message, /\{nickname\}.*columns: phone, name, plan/);
  const j = await api(url, 'POST', '/api/sms/bulk', { message: 'Hi {name}', recipients: ['0712000711'] });
  assert.equal(j.status, 400);
  assert.equal(j.json.error, 'UNKNOWN_PLACEHOLDER');
});

test('JSON recipients as objects fill placeholders too; 1,500 recipients of one text make batches of 1,000 and 500', async () => {
  const recipients = Array.from({ length: 1500 }, (_, i) => ({ phone: `07130${String(i).padStart(5, '0')}`, city: 'Nairobi' }));
  const dry = await api(url, 'POST', '/api/sms/bulk', { message: 'Karibu {city}!', recipients, dryRun: true });
  assert.equal(dry.status, 200, JSON.stringify(dry.json));
  assert.equal(dry.json.batches, 2);
  assert.equal(dry.json.valid, 1500);
  assert.deepEqual(dry.json.sample[0], { to: '+254713000000', text: 'Karibu Nairobi!', parts: 1 });
});

test('a dry run shows the first messages, parts and cost, and writes and sends nothing', async () => {
  const before = (await sandboxSms(url)).length;
  const keysBefore = (await svc.app.redis.keys(`${svc.app.config.REDIS_PREFIX}sms:bulk:*`)).length;
  const long = `Habari {name}, ${'offer '.repeat(30)}`; // over 160 characters: 2 parts
  const form = new FormData();
  form.append('message', long);
  form.append('dryRun', 'true');
  form.append('file', new Blob([csv(['0712000721,Amina,Gold', '0712000722,Baraka,Silver', 'not-a-number,Chebet,Gold'])], { type: 'text/csv' }), 'list.csv');
  const r = await api(url, 'POST', '/api/sms/bulk', form);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.dryRun, true);
  assert.equal(r.json.valid, 2);
  assert.equal(r.json.invalid, 1);
  assert.equal(r.json.smsParts, 4);
  assert.equal(r.json.costMinor, 320);
  assert.equal(r.json.currency, 'KES');
  assert.equal(r.json.sample.length, 2);
  assert.equal(r.json.sample[0].text, long.replace('{name}', 'Amina'));
  assert.equal(r.json.sample[0].parts, 2);
  assert.equal(r.json.invalidSample[0].input, 'not-a-number');
  assert.equal(r.json.id, undefined);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal((await sandboxSms(url)).length, before, 'nothing sent');
  assert.equal((await svc.app.redis.keys(`${svc.app.config.REDIS_PREFIX}sms:bulk:*`)).length, keysBefore, 'nothing written');
});

test('a scheduled campaign waits until its time, then sends; bad times are refused', async () => {
  const bad = await api(url, 'POST', '/api/sms/bulk', { message: 'x', recipients: ['0712000731'], sendAt: 'tomorrow' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'BAD_SEND_AT');
  const past = await api(url, 'POST', '/api/sms/bulk', { message: 'x', recipients: ['0712000731'], sendAt: '2020-01-01T00:00:00Z' });
  assert.equal(past.json.error, 'BAD_SEND_AT');

  const before = (await sandboxSms(url)).length;
  const sendAt = new Date(Date.now() + 2500).toISOString();
  const r = await api(url, 'POST', '/api/sms/bulk', { message: 'Sale starts now', recipients: ['0712000732'], sendAt });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.equal(r.json.sendAt, sendAt);
  const s1 = await api(url, 'GET', `/api/sms/bulk/${r.json.id}`);
  assert.equal(s1.json.state, 'scheduled');
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal((await sandboxSms(url)).slice(before).filter((m) => m.message === 'Sale starts now').length, 0, 'not before its time');
  const sent = await waitFor(async () => (await sandboxSms(url)).slice(before).find((m) => m.message === 'Sale starts now'), {
    what: 'sent after sendAt',
    timeoutMs: 15000,
    everyMs: 100,
  });
  assert.ok(Date.parse(sent.at) >= Date.parse(sendAt) - 50);
  await waitFor(async () => ((await api(url, 'GET', `/api/sms/bulk/${r.json.id}`)).json.state === 'done' ? true : undefined), {
    what: 'done',
    timeoutMs: 15000,
    everyMs: 100,
  });

  // The campaign list shows it, newest first.
  const list = await api(url, 'GET', '/api/sms/bulk?limit=5');
  assert.equal(list.status, 200);
  assert.equal(list.json.campaigns[0].id, r.json.id);
  assert.equal(list.json.campaigns[0].totals.recipientsSent, 1);
});
