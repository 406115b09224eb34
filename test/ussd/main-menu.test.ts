// Every path of the default menu (menus/main.yaml), in English and in Swahili, over HTTP.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { Phone } from '../support/ussd.js';
import type { ActionContext, ActionResult } from '../../src/ussd/actions.js';

const svc = await startTestService({}, { workers: false });
after(() => svc.close());

// Record every action call so each path also proves which handler ran with which values.
const calls: ActionContext[] = [];
const outcomes = new Map<string, ActionResult[]>();
for (const name of ['airtime', 'bundle', 'paybill', 'balance', 'checkout', 'agent_otp_send', 'agent_activate', 'agent_pin_change', 'agent_pin_reset']) {
  svc.app.actions.register(name, async (ctx) => {
    calls.push(ctx);
    const queued = outcomes.get(`${ctx.phone}:${name}`)?.shift();
    return queued ?? { outcome: 'success', vars: { ref: 'REF123', float: '1,500.00', earnings: '75.00', token: '1111-2222' } };
  });
}
const lastCall = (phone: string) => calls.filter((c) => c.phone === phone).at(-1);

let seq = 0;
async function phoneIn(lang: 'en' | 'sw'): Promise<Phone> {
  const num = `+2547220${String(++seq).padStart(5, '0')}`;
  if (lang === 'sw') {
    const p = new Phone(svc.url, num);
    await p.dial();
    const r = await p.walk('6', '1', '2');
    assert.match(r, /^END Lugha imewekwa: Kiswahili\.$/);
  }
  return new Phone(svc.url, num);
}

const T = {
  en: {
    welcome: /^CON Welcome to Kemru Pay\n1 Buy airtime\n2 Buy data bundle\n3 Pay bill\n4 Check balance\n5 Pay merchant\n6 My account$/,
    prompt: /M-PESA prompt to pay KES (\S+)\./,
    cancelled: /^END Cancelled/,
  },
  sw: {
    welcome: /^CON Karibu Kemru Pay\n1 Nunua salio\n2 Nunua kifurushi cha data\n3 Lipa bili\n/,
    prompt: /ombi la M-PESA kulipa KES (\S+)\./,
    cancelled: /^END Imesitishwa/,
  },
};

for (const lang of ['en', 'sw'] as const) {
  describe(`default menu (${lang})`, () => {
    test('airtime for my number, then checkout prompt', async () => {
      const p = await phoneIn(lang);
      assert.match(await p.dial(), T[lang].welcome);
      assert.match(await p.send('1'), lang === 'en' ? /Buy airtime for:\n1 My number\n2 Other number/ : /Nunua salio kwa:\n1 Nambari yangu/);
      assert.match(await p.send('1'), /KES 10 - 10,000/);
      // Cents are refused at entry (M-PESA and the airtime vend move whole shillings only).
      assert.match(await p.send('150.50'), lang === 'en' ? /^CON Enter whole shillings, no cents/ : /^CON Weka shilingi kamili, bila senti/);
      const confirm = await p.send('150');
      assert.match(confirm, new RegExp(`KES 150 (for|kwa) 0${p.phoneNumber.slice(4)}\\?`));
      const end = await p.send('1');
      assert.equal(end.match(T[lang].prompt)?.[1], '150');
      const c = lastCall(p.phoneNumber)!;
      assert.equal(c.action, 'airtime');
      assert.deepEqual(c.params, { pay: 'checkout' });
      assert.equal(c.values.amount, '15000');
      assert.equal(c.values.recipient, p.phoneNumber);
      assert.equal(c.lang, lang);
    });

    test('airtime for another number, and cancel', async () => {
      const p = await phoneIn(lang);
      await p.dial();
      await p.walk('1', '2');
      assert.match(await p.send('0733 123456'), /KES 10 - 10,000/);
      assert.match(await p.send('250'), /KES 250 (for|kwa) 0733123456\?/);
      assert.match(await p.send('2'), T[lang].cancelled);
      const p2 = await phoneIn(lang);
      await p2.dial();
      assert.match(await p2.walk('1', '2', '254733123456', '20', '1'), T[lang].prompt);
      assert.equal(lastCall(p2.phoneNumber)!.values.recipient, '+254733123456');
    });

    test('data bundle from the second page, for another number', async () => {
      const p = await phoneIn(lang);
      await p.dial();
      const page1 = await p.send('2');
      assert.match(page1, /98 (More|Zaidi)$/);
      const page2 = await p.send('98');
      assert.match(page2, /7 100GB (60 days|siku 60) KES 3000/);
      assert.match(page2, /0 (Back|Rudi)$/);
      assert.match(await p.send('7'), /100GB 60 days (for|kwa):/);
      await p.send('2');
      assert.match(await p.send('0711222333'), /100GB 60 days (for|kwa) KES 3000 (for|kwa) 0711222333\?/);
      assert.match(await p.send('1'), T[lang].prompt);
      const c = lastCall(p.phoneNumber)!;
      assert.equal(c.action, 'bundle');
      assert.equal(c.values.bundle, '60_DAY_DATA_100GB');
      assert.equal(c.values.amount, '300000');
    });

    test('data bundle for my number', async () => {
      const p = await phoneIn(lang);
      await p.dial();
      await p.walk('2', '1', '1');
      assert.match(await p.send('1'), T[lang].prompt);
      assert.equal(lastCall(p.phoneNumber)!.values.bundle, 'DAILY_DATA_100MB');
      assert.equal(lastCall(p.phoneNumber)!.values.recipient, p.phoneNumber);
    });

    const billers: Array<[string, string, string, string]> = [
      ['1', 'KPLC_PREPAID', '12345678901', '1234567890'],
      ['2', 'KPLC_POSTPAID', '123456', '12345'],
      ['3', 'DSTV', '1234567890', '123456789'],
      ['4', 'GOTV', '1234567890', '12345678901'],
      ['5', 'ZUKU', '123456', '12345'],
      ['6', 'STARTIMES', '12345678901', '123456789012'],
      ['7', 'NAIROBI_WTR', '1234', '123'],
    ];
    test('pay bill: every biller checks its own account format', async () => {
      for (const [opt, biller, good, bad] of billers) {
        const p = await phoneIn(lang);
        await p.dial();
        await p.send('3');
        if (Number(opt) > 0) await p.send(opt).then((s) => assert.match(s, /(account\/meter|akaunti\/mita)/, s));
        const rejected = await p.send(bad);
        assert.match(rejected, lang === 'en' ? /not valid for this biller/ : /si sahihi kwa mtoa huduma/, `${biller} ${bad}`);
        assert.match(await p.send(good), /KES 10 - 150,000/);
        assert.match(await p.send('1500'), new RegExp(`KES 1500 .*${good}\\?`));
        assert.match(await p.send('1'), T[lang].prompt);
        const c = lastCall(p.phoneNumber)!;
        assert.equal(c.action, 'paybill');
        assert.equal(c.values.biller, biller);
        assert.equal(c.values.account, good);
      }
    });

    test('check balance: PIN, wrong PIN retry, then float and earnings', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:balance`, [{ outcome: 'wrong_pin', vars: { tries_left: '2' } }]);
      await p.dial();
      assert.match(await p.send('4'), /PIN/);
      assert.match(await p.send('12a4'), lang === 'en' ? /PIN must be 4 digits/ : /PIN lazima iwe tarakimu 4/);
      assert.match(await p.send('1234'), lang === 'en' ? /Wrong PIN, 2 tries left/ : /majaribio 2 yamebaki/);
      const end = await p.send('4321');
      assert.match(end, lang === 'en' ? /^END Float: KES 1,500\.00\nEarnings: KES 75\.00$/ : /^END Salio la float: KES 1,500\.00\nMapato: KES 75\.00$/);
      assert.equal(lastCall(p.phoneNumber)!.values.pin, '4321');
    });

    test('check balance: locked and not an agent', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:balance`, [{ outcome: 'locked', vars: { minutes: '30' } }, { outcome: 'not_agent' }]);
      await p.dial();
      assert.match(await p.walk('4', '1234'), /^END .*(30 minutes|dakika 30)/);
      const p2 = new Phone(svc.url, p.phoneNumber);
      await p2.dial();
      assert.match(await p2.walk('4', '1234'), lang === 'en' ? /^END This service is for registered agents only/ : /^END Huduma hii ni ya mawakala/);
    });

    test('pay merchant', async () => {
      const p = await phoneIn(lang);
      await p.dial();
      await p.send('5');
      assert.match(await p.send('ab'), lang === 'en' ? /3 to 20 letters or digits/ : /herufi au tarakimu 3 hadi 20/);
      await p.send('SHOP42');
      assert.match(await p.send('5'), lang === 'en' ? /Amount must be KES 10 to 150000/ : /Kiasi lazima kiwe KES 10 hadi 150000/);
      assert.match(await p.send('999'), /KES 999 .*SHOP42\?/);
      assert.match(await p.send('1'), T[lang].prompt);
      assert.equal(lastCall(p.phoneNumber)!.action, 'checkout');
    });

    test('action failure shows the user-safe reason', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:checkout`, [{ outcome: 'failure', reason: { en: 'The merchant is closed.', sw: 'Mfanyabiashara amefunga.' } }]);
      await p.dial();
      const end = await p.walk('5', 'SHOP42', '100', '1');
      assert.match(
        end,
        lang === 'en'
          ? /^END Sorry, your request could not be completed\. The merchant is closed\.$/
          : /^END Samahani, ombi lako halikukamilika\. Mfanyabiashara amefunga\.$/,
      );
    });

    test('agent: sell airtime from float (wrong PIN, then success)', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:airtime`, [{ outcome: 'wrong_pin', vars: { tries_left: '1' } }]);
      await p.dial();
      await p.walk('6', '2');
      assert.match(await p.send('1'), /(Customer phone|simu ya mteja)/);
      await p.send('0712999888');
      assert.match(await p.send('300'), /KES 300 .*0712999888/);
      assert.match(await p.send('1111'), /1/);
      const end = await p.send('2222');
      assert.match(end, lang === 'en' ? /^END Sent KES 300 airtime to 0712999888\. Ref REF123$/ : /^END Umetuma salio KES 300 kwa 0712999888\. Kumb REF123$/);
      const c = lastCall(p.phoneNumber)!;
      assert.deepEqual(c.params, { pay: 'float' });
      assert.equal(c.values.pin, '2222');
    });

    test('agent: sell data bundle and pay a bill from float', async () => {
      const p = await phoneIn(lang);
      await p.dial();
      const end = await p.walk('6', '2', '2', '3', '0712999888', '1234');
      assert.match(end, /^END .*1GB 1 day .*0712999888.*REF123/);
      assert.equal(lastCall(p.phoneNumber)!.values.bundle, 'DailyData1GB');
      const q = new Phone(svc.url, p.phoneNumber);
      await q.dial();
      const bill = await q.walk('6', '2', '3', '1', '12345678901', '2000', '1234');
      assert.match(bill, /^END .*KES 2000 .*KPLC Prepaid 12345678901.*REF123 1111-2222$/);
      assert.equal(lastCall(p.phoneNumber)!.action, 'paybill');
      assert.deepEqual(lastCall(p.phoneNumber)!.params, { pay: 'float' });
    });

    test('agent: activate with OTP (wrong code once), PINs must match', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:agent_activate`, [{ outcome: 'wrong_otp', vars: { tries_left: '4' } }]);
      await p.dial();
      assert.match(await p.walk('6', '2', '4'), /SMS:$/);
      assert.deepEqual(lastCall(p.phoneNumber)!.params, { purpose: 'activate' });
      await p.send('123456');
      await p.send('1357');
      assert.match(await p.send('7531'), lang === 'en' ? /do not match/ : /hazilingani/);
      assert.match(await p.send('1357'), /(Wrong code, 4 tries left|majaribio 4 yamebaki)/);
      const end = await p.send('654321');
      assert.match(end, lang === 'en' ? /^END Your agent account is active/ : /^END Akaunti yako ya wakala iko hai/);
      const c = lastCall(p.phoneNumber)!;
      assert.equal(c.action, 'agent_activate');
      assert.equal(c.values.otp, '654321');
      assert.equal(c.values.new_pin, '1357');
    });

    test('agent: activate when already active / not an agent', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:agent_otp_send`, [{ outcome: 'already_active' }, { outcome: 'not_agent' }]);
      await p.dial();
      assert.match(await p.walk('6', '2', '4'), lang === 'en' ? /^END Your agent account is already active/ : /^END Akaunti yako ya wakala tayari/);
      const q = new Phone(svc.url, p.phoneNumber);
      await q.dial();
      assert.match(await q.walk('6', '2', '4'), /^END .*(registered agents only|mawakala waliosajiliwa)/);
    });

    test('agent: change PIN (wrong old PIN once)', async () => {
      const p = await phoneIn(lang);
      outcomes.set(`${p.phoneNumber}:agent_pin_change`, [{ outcome: 'wrong_pin', vars: { tries_left: '2' } }]);
      await p.dial();
      await p.walk('6', '2', '5', '1111', '2222');
      assert.match(await p.send('2222'), /(Wrong PIN, 2 tries left|majaribio 2 yamebaki)/);
      assert.match(await p.send('1112'), lang === 'en' ? /^END Your agent PIN has been changed/ : /^END PIN yako ya wakala imebadilishwa/);
      const c = lastCall(p.phoneNumber)!;
      assert.equal(c.values.pin, '1112');
      assert.equal(c.values.new_pin_confirm, '2222');
    });

    test('agent: reset PIN with OTP; not active', async () => {
      const p = await phoneIn(lang);
      await p.dial();
      const end = await p.walk('6', '2', '6', '9999', '4444', '4444');
      assert.match(end, lang === 'en' ? /^END Your agent PIN has been reset/ : /^END PIN yako ya wakala imewekwa upya/);
      assert.equal(lastCall(p.phoneNumber)!.action, 'agent_pin_reset');
      assert.ok(calls.some((c) => c.phone === p.phoneNumber && c.action === 'agent_otp_send' && c.params.purpose === 'reset'));
      outcomes.set(`${p.phoneNumber}:agent_otp_send`, [{ outcome: 'not_active' }]);
      const q = new Phone(svc.url, p.phoneNumber);
      await q.dial();
      assert.match(await q.walk('6', '2', '6'), /^END .*(not active yet|bado haijawashwa)/);
    });
  });
}

test('language choice is remembered per phone number and can be switched back', async () => {
  const p = await phoneIn('sw');
  assert.match(await p.dial(), /^CON Karibu/);
  const q = new Phone(svc.url, p.phoneNumber);
  await q.dial();
  assert.match(await q.walk('6', '1', '1'), /^END Language set to English\.$/);
  assert.match(await new Phone(svc.url, p.phoneNumber).dial(), /^CON Welcome/);
});
