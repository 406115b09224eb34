// Client mistakes get a 4xx with a reason, never a 500 (issue 16, items 7 and 8): an /invalid
// id that names another key, multipart bodies with a wrong or missing closing boundary,
// messages with nothing visible in them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api } from '../support/api.js';

const svc = await startTestService({}, { workers: false });
after(() => svc.close());

test('GET /api/sms/bulk/<id>:b:1/invalid (an id naming another key of the job) is 404, not WRONGTYPE', async () => {
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message: 'Ids', recipients: ['0715000001', 'nope'] });
  assert.equal(r.status, 202);
  for (const id of [`${r.json.id}:b:1`, `${r.json.id}:bstat`, `${r.json.id}:final`, 'b0000000000000000']) {
    const res = await api(svc.url, 'GET', `/api/sms/bulk/${encodeURIComponent(id)}/invalid`);
    assert.equal(res.status, 404, `${id}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.error, 'NOT_FOUND');
  }
  const ok = await api(svc.url, 'GET', `/api/sms/bulk/${r.json.id}/invalid`);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.invalid, 1);
});

test('multipart with a missing or wrong closing boundary, or no boundary at all: 400 BAD_MULTIPART with the reason', async () => {
  const part = (b: string) =>
    `--${b}\r\nContent-Disposition: form-data; name="message"\r\n\r\nHi\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="n.csv"\r\nContent-Type: text/csv\r\n\r\n0715000011\r\n0715000012\r\n`;
  const cases: Array<[string, string, string]> = [
    ['missing closing boundary', 'XyZ', part('XyZ')],
    ['wrong closing boundary', 'XyZ', `${part('XyZ')}--Other--\r\n`],
    ['header names another boundary', 'NotInBody', `${part('XyZ')}--XyZ--\r\n`],
  ];
  for (const [what, boundary, body] of cases) {
    const r = await api(svc.url, 'POST', '/api/sms/bulk', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.json)}`);
    assert.ok(['BAD_MULTIPART', 'FILE_REQUIRED'].includes(r.json.error), `${what}: ${r.json.error}`);
    assert.ok(typeof r.json.message === 'string' && r.json.message.length > 10, what);
  }
  const none = await api(svc.url, 'POST', '/api/sms/bulk', part('XyZ'), { 'content-type': 'multipart/form-data' });
  assert.equal(none.status, 400);
  assert.equal(none.json.error, 'BAD_MULTIPART');
  // The well-formed version of the same upload is taken.
  const good = await api(svc.url, 'POST', '/api/sms/bulk', `${part('XyZ')}--XyZ--\r\n`, { 'content-type': 'multipart/form-data; boundary=XyZ' });
  assert.equal(good.status, 202, JSON.stringify(good.json));
});

test('a message of zero-width characters, NULs or other invisibles is refused, not sent blank', async () => {
  for (const message of ['\u200b\u200b\u200b', '\u0000', '\u0000\u0000 ', '\ufeff\u200d\u2060', ' \t\r\n']) {
    const r = await api(svc.url, 'POST', '/api/sms/bulk', { message, recipients: ['0715000021'] });
    assert.equal(r.status, 400, JSON.stringify(message));
    assert.equal(r.json.error, 'MESSAGE_REQUIRED', JSON.stringify(message));
    const csv = await api(svc.url, 'POST', `/api/sms/bulk?message=${encodeURIComponent(message)}`, '0715000021\n', { 'content-type': 'text/csv' });
    assert.equal(csv.status, 400, JSON.stringify(message));
  }
  const nul = await api(svc.url, 'POST', '/api/sms/bulk', { message: 'Hi\u0000there', recipients: ['0715000021'] });
  assert.equal(nul.status, 400);
  assert.equal(nul.json.error, 'BAD_MESSAGE');
  assert.equal(
    (await api(svc.url, 'POST', '/api/sms/bulk', { message: 'Hi\u200bthere', recipients: ['0715000021'] })).status,
    202,
    'visible text with a zero-width space inside is fine',
  );
});
