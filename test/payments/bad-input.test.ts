// Bad input on the payments and SMS HTTP routes: a clear 4xx, never a 5xx, never a stack trace,
// and nothing half-written.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import type { RunningService } from '../../src/app.js';
import { TOKEN } from '../support/api.js';

let svc: RunningService;
before(async () => {
  svc = await startTestService({});
});
after(() => svc.close());

async function call(method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers }, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, text: await res.text() };
}

const JSON_CT = { 'content-type': 'application/json' };
const GZIP_JSON = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
const cases: Array<[string, string, string | undefined, Record<string, string>]> = [
  ['POST', '/api/agents', '{"phone":', JSON_CT],
  ['POST', '/api/agents', '[1,2]', JSON_CT],
  ['POST', '/api/agents', 'null', JSON_CT],
  ['POST', '/api/agents', '{"phone":["0712345678"]}', JSON_CT],
  ['POST', '/api/agents', 'x'.repeat(40_000), JSON_CT],
  ['POST', '/api/agents', '\u0000\u0001', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }],
  ['GET', '/api/agents/%E0%A4%A', undefined, {}],
  ['GET', '/api/orders/%E0%A4%A', undefined, {}],
  ['POST', '/callbacks/kyanda', '{"a":', JSON_CT],
  ['POST', '/callbacks/kyanda', 'x'.repeat(40_000), JSON_CT],
  ['POST', '/callbacks/kyanda', '{"status":"Success"}', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ['POST', '/api/otp', '{"phone":', JSON_CT],
  ['POST', '/api/otp', '{"phone":"0712345678","purpose":{"a":1}}', JSON_CT],
  ['POST', '/api/otp', '{"phone":"07","purpose":"login"}', JSON_CT],
  ['POST', '/api/otp/verify', '{"phone":"0712345678","purpose":"login","code":"12"}', JSON_CT],
  ['POST', '/api/otp/verify', '{"phone":"0712345678","purpose":"login","code":"123456"', JSON_CT],
  ['POST', '/api/sms/bulk', '{"message":', JSON_CT],
  ['POST', '/api/sms/bulk', '{"message":"hi","recipients":"0712345678"}', JSON_CT],
  ['POST', '/api/sms/bulk', '{"message":"","recipients":["0712345678"]}', JSON_CT],
  ['POST', '/api/sms/bulk', '{"message":"hi","recipients":["0712345678"]}', { 'content-type': 'application/json', 'content-encoding': 'br' }],
  ['POST', '/api/sms/bulk', 'message=hi', { 'content-type': 'application/x-www-form-urlencoded' }],
  ['POST', '/api/sms/bulk', '--x\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }],
  ['POST', '/api/sms/bulk', 'garbage', { 'content-type': 'multipart/form-data' }],
  ['GET', '/api/sms/bulk/%E0%A4%A', undefined, {}],
  ['GET', '/api/sms/bulk/nope/invalid', undefined, {}],
  ['POST', '/callbacks/sms-dlr', '{"a":', JSON_CT],
  ['POST', '/callbacks/sms-dlr', '{"a":1}', GZIP_JSON],
  ['POST', '/api/otp', '{"phone":"0712345678","purpose":"login"}', GZIP_JSON],
  ['POST', '/api/otp/verify', '{"phone":"0712345678","purpose":"login","code":"123456"}', GZIP_JSON],
  ['POST', '/callbacks/kyanda', '{"a":1}', GZIP_JSON],
];

test('every bad request gets a 4xx without internals', async () => {
  const bad: string[] = [];
  for (const [method, path, body, headers] of cases) {
    const r = await call(method, path, body, headers);
    if (r.status < 400 || r.status >= 500 || /at .*\.(ts|js):\d+|node_modules|Error:/.test(r.text)) {
      bad.push(`${method} ${path} ${JSON.stringify(headers)} ${String(body).slice(0, 40)} → ${r.status} ${r.text.slice(0, 120)}`);
    }
  }
  assert.deepEqual(bad, []);
  // Nothing half-written: no agent was registered by any of the bad requests.
  const agents = await call('GET', '/api/agents', undefined);
  assert.deepEqual(JSON.parse(agents.text).agents, []);
});
