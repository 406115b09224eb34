// One-time codes against abuse (issue 16, items 2–4): client IPs only from trusted proxies,
// never from the body; global and per-client caps; a quota slot only for an SMS the gateway
// accepted; the service's own purposes (agent-…) out of the API's reach.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api } from '../support/api.js';
import { nsn } from '../support/phones.js';
import { sandboxSms } from '../support/sandbox.js';

const SECRET = 'otp-test-secret-0123456789';
const svc = await startTestService({
  OTP_RESEND_COOLDOWN_S: '0',
  OTP_SECRET: SECRET,
  OTP_MAX_PER_IP_PER_HOUR: '3',
  OTP_MAX_PER_PHONE_PER_HOUR: '3',
  OTP_MAX_PER_IP_PER_MIN: '100',
  OTP_MAX_PER_MIN: '100',
});
after(() => svc.close());

let seq = 0;
const phone = () => `07130${String(++seq).padStart(5, '0')}`;
const send = (base: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => api(base, 'POST', '/api/otp', body, headers);
const faults = (base: string, body: unknown) =>
  fetch(`${base}/sandbox/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('without TRUSTED_PROXIES, X-Forwarded-For and a body ip are ignored: rotating them does not escape the per-IP quota', async () => {
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const r = await send(svc.url, { phone: phone(), purpose: 'login', ip: `10.9.0.${i}` }, { 'x-forwarded-for': `10.8.0.${i}` });
    statuses.push(r.status === 429 ? r.json.error : r.status);
  }
  assert.deepEqual(statuses, [202, 202, 202, 'IP_QUOTA', 'IP_QUOTA']);
});

test('behind TRUSTED_PROXIES the client is the first untrusted hop from the right; a spoofed left-most entry changes nothing', async () => {
  const p = await startTestService({
    OTP_RESEND_COOLDOWN_S: '0',
    OTP_SECRET: SECRET,
    OTP_MAX_PER_IP_PER_HOUR: '2',
    TRUSTED_PROXIES: '127.0.0.1,::1,10.0.0.0/8',
  });
  try {
    // The client 198.51.100.7 reached our proxy 10.1.2.3, which reached us; it lies about its own
    // address in the left-most entry each time.
    const hop = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7, 10.1.2.3` });
    const rs = [];
    for (let i = 0; i < 3; i++) rs.push((await send(p.url, { phone: phone(), purpose: 'login' }, hop(i))).status);
    assert.deepEqual(rs, [202, 202, 429], 'one client, whatever it claims');
    assert.equal(
      (await send(p.url, { phone: phone(), purpose: 'login' }, { 'x-forwarded-for': '198.51.100.8, 10.1.2.3' })).status,
      202,
      'another client has its own quota',
    );
  } finally {
    await p.close();
  }
});

test('caps per minute: per client (OTP_MAX_PER_IP_PER_MIN) and for the whole service (OTP_MAX_PER_MIN)', async () => {
  const p = await startTestService({
    OTP_RESEND_COOLDOWN_S: '0',
    OTP_SECRET: SECRET,
    OTP_MAX_PER_IP_PER_MIN: '2',
    OTP_MAX_PER_MIN: '3',
    TRUSTED_PROXIES: '127.0.0.1,::1',
  });
  try {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const a = [];
    for (let i = 0; i < 3; i++) a.push(await send(p.url, { phone: phone(), purpose: 'login' }, from('192.0.2.1')));
    assert.deepEqual(
      a.map((r) => r.status),
      [202, 202, 429],
    );
    assert.equal(a[2]!.json.error, 'IP_RATE');
    assert.ok(Number(a[2]!.headers.get('retry-after')) >= 1);
    assert.equal((await send(p.url, { phone: phone(), purpose: 'login' }, from('192.0.2.2'))).status, 202, 'third code of the minute, from another client');
    const fourth = await send(p.url, { phone: phone(), purpose: 'login' }, from('192.0.2.3'));
    assert.equal(fourth.status, 429);
    assert.equal(fourth.json.error, 'GLOBAL_RATE');
  } finally {
    await p.close();
  }
});

test('a code the gateway refused uses up no quota: 502, then the number still gets its full hourly allowance', async () => {
  const q = await startTestService({ OTP_RESEND_COOLDOWN_S: '0', OTP_SECRET: SECRET, OTP_MAX_PER_PHONE_PER_HOUR: '3', GATEWAY_RETRY_BASE_MS: '10' });
  try {
    const to = phone();
    // 1105 is retried by the client (GATEWAY_MAX_ATTEMPTS 3): six answers fail two sends.
    assert.equal((await faults(q.url, { failNext: { code: '1105', count: 6, path: '/billing/v1/sms/send' } })).status, 200);
    const failed = [];
    for (let i = 0; i < 2; i++) failed.push((await send(q.url, { phone: to, purpose: 'login' })).status);
    assert.deepEqual(failed, [502, 502]);
    // OTP_MAX_PER_PHONE_PER_HOUR = 3: all three are still there.
    const ok = [];
    for (let i = 0; i < 4; i++) ok.push(await send(q.url, { phone: to, purpose: `login${i}` }));
    assert.deepEqual(
      ok.map((r) => r.status),
      [202, 202, 202, 429],
    );
    assert.equal(ok[3]!.json.error, 'PHONE_QUOTA');
  } finally {
    await q.close();
  }
});

test("agent purposes are reserved: the API may not send or verify them, and cannot touch an agent's code or quota", async () => {
  const agent = phone();
  const sent = await send(svc.url, { phone: agent, purpose: 'agent-activate' });
  assert.equal(sent.status, 400);
  assert.equal(sent.json.error, 'RESERVED_PURPOSE');
  assert.equal((await send(svc.url, { phone: agent, purpose: 'Agent-Reset' })).status, 400);
  // The service sends the agent a reset code itself.
  await svc.app.otp!.send(agent, 'agent-reset', { internal: true });
  const sms = (await sandboxSms(svc.url)).filter((s) => s.recipients.some((r) => nsn(r) === nsn(agent)));
  const code = /\b(\d{6})\b/.exec(sms.at(-1)!.message)![1]!;
  // Wrong guesses through the API are refused before they reach anything.
  for (let i = 0; i < 6; i++) {
    const v = await api(svc.url, 'POST', '/api/otp/verify', { phone: agent, purpose: 'agent-reset', code: '000000' });
    assert.equal(v.status, 400);
    assert.equal(v.json.error, 'RESERVED_PURPOSE');
  }
  // The internal code lives where no API key can name it, untouched.
  const keys = await svc.app.redis.keys(`${svc.app.config.REDIS_PREFIX}otp:*${agent.slice(1)}`);
  assert.ok(keys.length > 0 && keys.every((k) => k.startsWith(`${svc.app.config.REDIS_PREFIX}otp:internal:`)), keys.join(' '));
  assert.equal(await svc.app.redis.hget(`${svc.app.config.REDIS_PREFIX}otp:internal:code:agent-reset:254${agent.slice(1)}`, 'tries'), '0');
  // API codes for the same number (any other purpose) do not use up the agent's own quota.
  const p = await startTestService({
    OTP_RESEND_COOLDOWN_S: '0',
    OTP_SECRET: SECRET,
    OTP_MAX_PER_PHONE_PER_HOUR: '3',
    REDIS_PREFIX: svc.app.config.REDIS_PREFIX,
    TRUSTED_PROXIES: '127.0.0.1,::1',
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await send(p.url, { phone: agent, purpose: `x${i}` }, { 'x-forwarded-for': `192.0.2.${50 + i}` })).status, 202);
    assert.equal((await send(p.url, { phone: agent, purpose: 'x9' }, { 'x-forwarded-for': '192.0.2.60' })).json.error, 'PHONE_QUOTA');
    await p.app.otp!.send(agent, 'agent-activate', { internal: true }); // still possible
  } finally {
    await p.close();
  }
  assert.deepEqual(await svc.app.otp!.verify(agent, 'agent-reset', code, { internal: true }), { valid: true });
});
