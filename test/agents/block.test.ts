// Blocking an agent (POST /api/agents/:phone/block, …/unblock): a blocked agent's PIN opens
// nothing (balance, float sales, PIN change, activation), no PIN try is used up, and
// unblocking restores the agent with the same PIN.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, waitSms, smsLog } from '../payments/support.js';
import { Phone } from '../support/ussd.js';

const s = await start({ AGENT_MAX_PIN_TRIES: '3', AGENT_LOCK_S: '600', RESUME_WINDOW_S: '0' });
after(() => s.svc.close());
const AUTH = { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json' };

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${s.url}${path}`, { method, headers: AUTH, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function activate(msisdn: string, pin: string): Promise<void> {
  const phone = new Phone(s.url, msisdn);
  await phone.dial();
  const t = Date.now() - 5;
  assert.match(await phone.walk('6', '2', '4'), /^CON Enter the code we sent by SMS/);
  await waitSms(s, msisdn, /verification code is \d+/);
  const last = (await smsLog(s)).filter((x) => x.recipients.includes(msisdn) && Date.parse(x.at) >= t && /verification code/.test(x.message)).at(-1)!;
  await phone.send(/code is (\d+)/.exec(last.message)![1]!);
  await phone.send(pin);
  assert.match(await phone.send(pin), /^END Your agent account is active/);
}

async function balance(msisdn: string, pin: string): Promise<string> {
  const p = new Phone(s.url, msisdn);
  await p.dial();
  return p.walk('4', pin);
}

test('an operator blocks an agent: the PIN opens nothing, no try is used; unblocked, the same PIN works', async () => {
  assert.equal((await api('POST', '/api/agents', { phone: '0722400001' })).status, 201);
  await activate('+254722400001', '1357');
  assert.match(await balance('+254722400001', '1357'), /^END Float: KES [\d,.]+\nEarnings: KES/);

  // Refusals: no token, no reason, unknown agent.
  assert.equal((await fetch(`${s.url}/api/agents/0722400001/block`, { method: 'POST' })).status, 401);
  assert.equal((await api('POST', '/api/agents/0722400001/block', {})).status, 400);
  assert.equal((await api('POST', '/api/agents/0722499999/block', { reason: 'lost phone' })).status, 404);

  const b = await api('POST', '/api/agents/0722400001/block', { reason: 'lost phone, ticket 77' });
  assert.equal(b.status, 200);
  assert.equal((b.json.agent as { blockedReason: string }).blockedReason, 'lost phone, ticket 77');
  const listed = (await api('GET', '/api/agents')).json.agents as Array<{ phone: string; blockedAt?: string }>;
  assert.ok(listed.find((a) => a.phone === '+254722400001')?.blockedAt);

  // The right PIN, blocked: told what a non-agent is told, and the tries are untouched.
  assert.equal(await balance('+254722400001', '1357'), 'END This service is for registered agents only.');
  assert.equal(await balance('+254722400001', '0000'), 'END This service is for registered agents only.');
  const sale = new Phone(s.url, '+254722400001');
  await sale.dial();
  assert.match(await sale.walk('6', '2', '1'), /^CON /); // agent services menu still shows; the sale is refused at the PIN
  const stored = await s.svc.app.redis.hgetall(s.svc.app.key('agent', '254722400001'));
  assert.equal(stored.failedTries, '0');
  assert.equal(stored.lockedUntil, undefined);

  const u = await api('POST', '/api/agents/0722400001/unblock');
  assert.equal(u.status, 200);
  assert.equal((u.json.agent as { blockedAt?: string }).blockedAt, undefined);
  assert.match(await balance('+254722400001', '1357'), /^END Float: KES/);
});

test('registering is idempotent and repairs itself: an agent whose first add died before it was listed is listed by the next add', async () => {
  const msisdn = '+254722300099';
  const first = await s.agents.add(msisdn);
  assert.equal(first.created, true);
  assert.equal(first.agent.status, 'registered');
  // The first add's process died after the agent's fields and before its place in the list.
  await s.svc.app.redis.zrem(s.svc.app.key('agents'), msisdn);
  assert.ok(!(await s.agents.list()).some((a) => a.phone === msisdn));
  const again = await s.agents.add(msisdn);
  assert.equal(again.created, false, 'already registered');
  assert.equal(again.agent.createdAt, first.agent.createdAt, 'nothing overwritten');
  assert.ok(
    (await s.agents.list()).some((a) => a.phone === msisdn),
    'listed again',
  );
});
