import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api } from '../support/api.js';
import { captureLogger } from '../support/log.js';
import { nsn } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const { logger, lines } = captureLogger();
const svc = await startTestService(
  { OTP_TTL_S: '2', OTP_RESEND_COOLDOWN_S: '1', OTP_SECRET: 'otp-test-secret-0123456789', OTP_MAX_PER_PHONE_PER_HOUR: '4', OTP_MAX_PER_IP_PER_MIN: '100' },
  { logger },
);
after(() => svc.close());

const codesSeen = new Set<string>();

async function latestCode(phone: string, after = 0): Promise<string> {
  const sms = await waitFor(
    async () => {
      const all = (await sandboxSms(svc.url)).filter((s) => s.recipients.some((r) => nsn(r) === nsn(phone)));
      return all.length > after ? all : undefined;
    },
    { what: `an SMS to ${phone}`, timeoutMs: 15000, everyMs: 100 },
  );
  const m = /\b(\d{6})\b/.exec(sms.at(-1)!.message);
  assert.ok(m, 'the SMS carries a 6-digit code');
  codesSeen.add(m[1]!);
  return m[1]!;
}

const send = (phone: string, purpose = 'login', extra: Record<string, unknown> = {}) => api(svc.url, 'POST', '/api/otp', { phone, purpose, ...extra });
const verify = (phone: string, code: string, purpose = 'login') => api(svc.url, 'POST', '/api/otp/verify', { phone, purpose, code });
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

test('the module provides app.otp for other modules', () => {
  assert.equal(typeof svc.app.otp?.send, 'function');
  assert.equal(typeof svc.app.otp?.verify, 'function');
});

test('the API needs the bearer token', async () => {
  const res = await fetch(`${svc.url}/api/otp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"phone":"0712000001","purpose":"login"}',
  });
  assert.equal(res.status, 401);
});

test('send then verify: right code valid once, wrong code refused with tries left', async () => {
  const phone = '0712000001';
  const r = await send(phone);
  assert.equal(r.status, 202);
  assert.match(r.json.id, /^[0-9a-f-]{36}$/);
  assert.ok(Date.parse(r.json.expiresAt) > Date.now());
  const code = await latestCode(phone);
  const bad = await verify(phone, wrong(code));
  assert.equal(bad.status, 422);
  assert.deepEqual(bad.json, { valid: false, reason: 'wrong_code', triesLeft: 4 });
  // Another format of the same number finds the same code.
  const ok = await verify('+254712000001', code);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { valid: true });
  const again = await verify(phone, code);
  assert.equal(again.status, 410, 'single use');
  assert.equal(again.json.reason, 'expired');
});

test('a code is bound to its purpose', async () => {
  const phone = '0712000002';
  assert.equal((await send(phone, 'pin_reset')).status, 202);
  const code = await latestCode(phone);
  assert.equal((await verify(phone, code, 'login')).status, 410);
  assert.equal((await verify(phone, code, 'pin_reset')).status, 200);
});

test('five wrong tries make the code invalid, even the right one', async () => {
  const phone = '0712000003';
  await send(phone);
  const code = await latestCode(phone);
  for (let i = 1; i <= 4; i++) {
    const r = await verify(phone, wrong(code));
    assert.equal(r.json.reason, 'wrong_code');
    assert.equal(r.json.triesLeft, 5 - i);
  }
  const fifth = await verify(phone, wrong(code));
  assert.equal(fifth.status, 429);
  assert.equal(fifth.json.reason, 'too_many_tries');
  const right = await verify(phone, code);
  assert.equal(right.status, 429);
  assert.equal(right.json.reason, 'too_many_tries');
});

test('concurrent guesses cannot exceed the try limit', async () => {
  const phone = '0712000004';
  await send(phone);
  const code = await latestCode(phone);
  const results = await Promise.all(Array.from({ length: 12 }, () => verify(phone, wrong(code))));
  assert.equal(results.filter((r) => r.json.reason === 'wrong_code').length, 4);
  assert.equal(results.filter((r) => r.json.reason === 'too_many_tries').length, 8);
  assert.equal((await verify(phone, code)).json.reason, 'too_many_tries');
});

test('a code expires after OTP_TTL_S', async () => {
  const phone = '0712000005';
  const r = await send(phone);
  const code = await latestCode(phone);
  await new Promise((res) => setTimeout(res, Math.max(0, Date.parse(r.json.expiresAt) - Date.now()) + 50));
  const v = await verify(phone, code);
  assert.equal(v.status, 410);
  assert.equal(v.json.reason, 'expired');
});

test('resend: cooldown that grows, and the new code replaces the old', async () => {
  const phone = '0712000006';
  assert.equal((await send(phone)).status, 202);
  const first = await latestCode(phone, 0);
  const early = await send(phone);
  assert.equal(early.status, 429);
  assert.equal(early.json.error, 'COOLDOWN');
  assert.equal(early.json.retryAfterS, 1);
  assert.equal(early.headers.get('retry-after'), '1');
  await new Promise((res) => setTimeout(res, 1050));
  assert.equal((await send(phone)).status, 202);
  const second = await latestCode(phone, 1);
  const early2 = await send(phone);
  assert.equal(early2.status, 429);
  assert.equal(early2.json.retryAfterS, 2, 'second cooldown is twice the first');
  if (first !== second) assert.equal((await verify(phone, first)).json.reason, 'wrong_code', 'old code is gone');
  assert.equal((await verify(phone, second)).status, 200);
});

test('bad input gets a clear 400', async () => {
  assert.equal((await send('0712')).status, 400);
  assert.equal((await send('0712000007', 'bad purpose!')).status, 400);
  assert.equal((await verify('0712000007', 'abc')).status, 400);
  const r = await api(svc.url, 'POST', '/api/otp', '{not json', { 'content-type': 'application/json' });
  assert.ok(r.status >= 400 && r.status < 500);
});

test('hourly quota per number and per client IP, shared by two instances', async () => {
  // The test process is the instances' trusted proxy, so X-Forwarded-For names the client.
  const env = {
    OTP_RESEND_COOLDOWN_S: '0',
    OTP_SECRET: 'otp-test-secret-0123456789',
    OTP_MAX_PER_PHONE_PER_HOUR: '3',
    OTP_MAX_PER_IP_PER_HOUR: '5',
    TRUSTED_PROXIES: '127.0.0.1,::1',
    REDIS_PREFIX: `tq${Date.now() % 1e8}:`,
  };
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const a = await startTestService(env);
  const b = await startTestService(env);
  try {
    const phone = '0712000008';
    // Eight concurrent requests split over two instances: exactly three get through.
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api(i % 2 ? a.url : b.url, 'POST', '/api/otp', { phone, purpose: 'login' }, from('10.0.0.1'))),
    );
    assert.equal(rs.filter((r) => r.status === 202).length, 3);
    const refused = rs.filter((r) => r.status === 429);
    assert.equal(refused.length, 5);
    assert.ok(refused.every((r) => r.json.error === 'PHONE_QUOTA'));
    // The IP 10.0.0.2 may ask for 5 codes in total, whatever the numbers.
    const ipRs = [];
    for (let i = 0; i < 6; i++)
      ipRs.push(await api(i % 2 ? a.url : b.url, 'POST', '/api/otp', { phone: `07120001${String(i).padStart(2, '0')}`, purpose: 'login' }, from('10.0.0.2')));
    assert.deepEqual(
      ipRs.map((r) => r.status),
      [202, 202, 202, 202, 202, 429],
    );
    assert.equal(ipRs[5]!.json.error, 'IP_QUOTA');
    // A code sent by one instance verifies on the other (shared secret and Redis).
    assert.equal((await api(a.url, 'POST', '/api/otp', { phone: '0712000200', purpose: 'login' }, from('10.0.0.3'))).status, 202);
    const sms = (await sandboxSms(a.url)).filter((s) => s.recipients.some((r) => nsn(r) === nsn('0712000200')));
    const code = /\b(\d{6})\b/.exec(sms.at(-1)!.message)![1]!;
    codesSeen.add(code);
    const v = await api(b.url, 'POST', '/api/otp/verify', { phone: '0712000200', purpose: 'login', code });
    assert.equal(v.status, 200);
  } finally {
    await a.close();
    await b.close();
  }
});

test('no code ever appears in the log output', () => {
  assert.ok(codesSeen.size >= 6, `saw ${codesSeen.size} codes`);
  assert.ok(lines.length > 10, 'the logger captured output');
  const log = lines.join('');
  for (const code of codesSeen) assert.doesNotMatch(log, new RegExp(`(?<!\\d)${code}(?!\\d)`), 'a code leaked into the logs');
  assert.match(log, /otp sent/);
  assert.match(log, /2547\*\*\*\*0001/, 'phones are masked');
});
