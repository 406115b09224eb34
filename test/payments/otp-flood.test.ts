// An OTP flood does not starve money: 20 clients sending one-time codes as fast as they can fill
// the OTP share of a small gateway allowance, and an agent's float sale made meanwhile is vended
// at once (the shared limiter serves money before OTPs), exactly once, and its receipt follows.
// Before the limiter's priorities, such a vend waited behind the codes for most of a minute.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, orderOf, waitState, ledger, vendsFor, waitSms, assertInvariants } from './support.js';
import { Phone } from '../support/ussd.js';

// 20 gateway calls a minute: OTPs may use 12 of them (2 × GATEWAY_RATE_RESERVE_PCT left for
// notices and money), and an OTP finds no slot within 200 ms is refused rather than queued.
const s = await start({
  GATEWAY_RATE_LIMIT_PER_MIN: '20',
  GATEWAY_RATE_RESERVE_PCT: '20',
  GATEWAY_RATE_WAIT_MS: '200',
  OTP_RESEND_COOLDOWN_S: '0',
  OTP_MAX_PER_MIN: '100000',
  OTP_MAX_PER_IP_PER_MIN: '100000',
  OTP_MAX_PER_IP_PER_HOUR: '100000',
  OTP_MAX_PER_PHONE_PER_HOUR: '1000',
  TRUSTED_PROXIES: '127.0.0.1,::1',
});
after(() => s.svc.close());

test('20 clients flooding OTPs: an agent float sale made meanwhile is vended within seconds, once, with its receipt', async () => {
  await s.agents.add('+254722300001');
  await s.agents.setPin('+254722300001', '2580');
  let flooding = true;
  const answers = new Map<number, number>();
  const client = async (n: number) => {
    for (let i = 0; flooding; i++) {
      const r = await fetch(`${s.url}/api/otp`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-api-token-0123456789', 'content-type': 'application/json', 'x-forwarded-for': `10.9.${n}.1` },
        body: JSON.stringify({ phone: `+2547130${String(n).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`, purpose: 'login' }),
      });
      answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
      await r.arrayBuffer();
    }
  };
  const clients = Array.from({ length: 20 }, (_, n) => client(n));
  try {
    // Let the flood use up the OTP share of the window first: codes start being refused.
    const refused = () => [...answers].filter(([status]) => status !== 202).reduce((a, [, n]) => a + n, 0);
    const t0 = Date.now();
    while (refused() < 20 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    assert.ok((answers.get(202) ?? 0) >= 5 && refused() >= 20, `the flood filled the OTP share (${JSON.stringify([...answers])})`);

    const phone = new Phone(s.url, '+254722300001');
    await phone.dial();
    await phone.walk('6', '2', '1', '0712300001', '150');
    const sold = Date.now();
    const end = await phone.send('2580');
    assert.doesNotMatch(end, /try again/i);
    const o = await orderOf(s, phone.sessionId);
    const done = await waitState(s, o.id, 'terminal', 20_000);
    const ms = Date.now() - sold;
    assert.equal(done.state, 'fulfilled');
    assert.ok(ms < 5_000, `vended ${ms} ms after the PIN, while OTPs were being refused`);
    assert.equal(vendsFor(await ledger(s), o.id).length, 1);
    await waitSms(s, '+254722300001', 'Success', 20_000);
  } finally {
    flooding = false;
    await Promise.all(clients);
  }
  await assertInvariants(s);
});
