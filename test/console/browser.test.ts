// The console in a real browser (Debian's Chromium, playwright-core): the sign-in wall, every
// page opened with no console errors, a purchase dialled and paid through the web phone, every
// channel's wire format spoken through the real routes, the menu graph, the funnel chart, the
// needs_attention queue closed with a reason, a campaign previewed and sent, an agent added
// and blocked. Screenshots go to test/output/console/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { RunningService } from '../../src/app.js';
import { startTestService } from '../support/service.js';
import { buildAssets, launch, OUTPUT, PASSWORD, shot, signIn, type Browser } from './support.js';
import { TOKEN } from '../support/api.js';

// Functions passed to page.waitForFunction run in the page, where the DOM exists (the project's
// own lib has no DOM types).
declare const document: {
  querySelector(s: string): { textContent: string | null } | null;
  querySelectorAll(s: string): ArrayLike<{ textContent: string | null }>;
};

let svc: RunningService;
let b: Browser;
/** The service's MENUS_DIR: main.yaml, and a draft the menus test adds. */
const menusDir = mkdtempSync(join(tmpdir(), 'console-menus-'));
let page: Page;
const AUTH = { authorization: `Bearer ${TOKEN}` };

before(async () => {
  buildAssets();
  copyFileSync('menus/main.yaml', join(menusDir, 'main.yaml'));
  svc = await startTestService({
    MENUS_DIR: menusDir,
    CONSOLE_PASSWORD: PASSWORD,
    SANDBOX_CHECKOUT_DELAY_MS: '200',
    CHECKOUT_DELAY_MS: '200',
    RESUME_WINDOW_S: '0',
    SMS_DUPLICATE_WINDOW_S: '0',
    MENUS_WATCH: '0',
  });
  b = await launch();
  page = b.page;
});

after(async () => {
  await b?.close();
  await svc?.close();
  rmSync(menusDir, { recursive: true, force: true });
});

const sim = (p: Page) => p.getByTestId('sim').first();

async function dialAndType(p: Page, channel: string, code: string, phone: string, answers: string[]): Promise<string> {
  const s = sim(p);
  await s.getByTestId('sim-channel').selectOption(channel);
  await s.getByTestId('sim-code').fill(code);
  await s.getByTestId('sim-phone').fill(phone);
  await s.getByTestId('sim-dial').click();
  await s.getByTestId('sim-input').waitFor({ state: 'visible' });
  await waitEnabledOrEnded(s);
  for (const a of answers) {
    await s.getByTestId('sim-input').fill(a);
    await s.getByTestId('sim-send').click();
    await waitEnabledOrEnded(s);
  }
  return (await s.getByTestId('sim-screen').textContent()) ?? '';
}

/** Until the handset can take the next answer, or the session is over. */
async function waitEnabledOrEnded(s: ReturnType<typeof sim>): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await s.getByTestId('sim-state').textContent();
    if (state === 'session open' && !(await s.getByTestId('sim-send').isDisabled())) return;
    if (state === 'ended' || state === 'error' || state === 'hung up') return;
    if (Date.now() > deadline) throw new Error(`handset stuck in "${state}"`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the wall: the console sends a browser to sign in; a wrong password is refused', async () => {
  await page.goto(`${svc.url}/console/#orders`);
  await page.waitForURL(/\/console\/login(\?.*)?(#.*)?$/);
  await page.getByTestId('login-password').fill('wrong password here');
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/error=wrong/);
  assert.equal(await page.getByTestId('login-error').textContent(), 'Wrong password or token.');
  await shot(page, '00-sign-in');
  // The assets are not there for a browser without a session either.
  const r = await page.request.get(`${svc.url}/console/assets/app.js`);
  assert.equal(r.status(), 401);
  await signIn(page, svc.url);
});

test("dial and buy airtime through the web phone (Africa's Talking), with the raw log and character count", async () => {
  await page.goto(`${svc.url}/console/#phone`);
  const s = sim(page);
  const end = await dialAndType(page, 'africastalking', '*860*30#', '0712777001', ['1', '1', '100', '1']);
  assert.match(end, /^You will receive an M-PESA prompt to pay KES 100\./);
  assert.match((await s.getByTestId('sim-count').textContent()) ?? '', /^END \d+\/182 · \d+ ms$/);
  const log = (await s.getByTestId('sim-log').textContent()) ?? '';
  assert.match(log, /→ POST \/ussd\ncontent-type: application\/x-www-form-urlencoded\nsessionId=web-/);
  assert.match(log, /text=1\*1\*100\*1/);
  assert.match(log, /← HTTP 200 \(\d+ ms\)\ncontent-type: text\/plain; charset=utf-8\nEND You will receive/);
  await shot(page, '01-phone-purchase');
  // The order it made is paid and fulfilled (the sandbox pays after 200 ms).
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { orders } = (await (await fetch(`${svc.url}/api/orders?phone=0712777001`, { headers: AUTH })).json()) as {
      orders: Array<{ state: string; amountMinor: number }>;
    };
    if (orders[0]?.state === 'fulfilled') {
      assert.equal(orders[0].amountMinor, 10000);
      break;
    }
    if (Date.now() > deadline) throw new Error(`order not fulfilled: ${JSON.stringify(orders)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

test('every channel, in its own wire format, through the real routes; several phones side by side; End sends the hang-up', async () => {
  await page.goto(`${svc.url}/console/#phone`);
  const channels = await sim(page)
    .getByTestId('sim-channel')
    .locator('option')
    .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
  assert.deepEqual(channels.sort(), ['africastalking', 'airtel', 'arkesel', 'beem', 'emergent', 'hubtel', 'infobip', 'nalo', 'safaricom']);
  const paths: Record<string, RegExp> = {
    africastalking: /→ POST \/ussd\n/,
    hubtel: /→ POST \/ussd\/hubtel\n.*"Type":"Response"/s,
    arkesel: /→ POST \/ussd\/arkesel\n/,
    nalo: /→ POST \/ussd\/nalo\n/,
    beem: /→ POST \/ussd\/beem\n/,
    emergent: /→ POST \/ussd\/emergent\n/,
    safaricom: /→ GET \/ussd\/safaricom\?ORIG=254712777/,
    airtel: /← HTTP 200 .*\nfreeflow: FC/s,
    infobip: /→ POST \/ussd\/infobip\/web-[^/]+\/response/,
  };
  for (const [i, ch] of channels.entries()) {
    const screen = await dialAndType(page, ch, '*860*30#', `07127771${String(i).padStart(2, '0')}`, ['1']);
    assert.match(screen, /^Buy airtime for:\n1 My number\n2 Other number/, ch);
    assert.match((await sim(page).getByTestId('sim-log').textContent()) ?? '', paths[ch]!, ch);
    assert.match((await sim(page).getByTestId('sim-count').textContent()) ?? '', new RegExp(`^CON \\d+/${ch === 'nalo' ? 120 : 182} `), ch);
  }
  // Hubtel's hang-up reaches the service as a Release.
  await dialAndType(page, 'hubtel', '*860*30*1#', '0712777200', []);
  assert.match((await sim(page).getByTestId('sim-screen').textContent()) ?? '', /^Buy airtime for:/, 'a deep link opens the sub-menu');
  await sim(page).getByTestId('sim-end').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="sim-state"]')?.textContent === 'hung up');
  assert.match((await sim(page).getByTestId('sim-log').textContent()) ?? '', /"Type":"Release"/);
  // A second phone beside the first, each with its own session.
  await page.getByTestId('add-phone').click();
  assert.equal(await page.getByTestId('sim').count(), 2);
  const second = page.getByTestId('sim').nth(1);
  await second.getByTestId('sim-dial').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="sim-state"]')[1]?.textContent === 'session open');
  assert.match((await second.getByTestId('sim-screen').textContent()) ?? '', /^Welcome to Kemru Pay/);
});

test("menus: the graph of the compiled menu, a screen's text in every language, flags on a draft", async () => {
  await page.goto(`${svc.url}/console/#menus`);
  await page.getByTestId('menu-source').selectOption('served');
  await page.waitForSelector('[data-testid="menu-graph"] svg .node');
  const nodes = await page.locator('[data-testid="menu-graph"] .node').count();
  assert.equal(nodes, 76, 'one node per screen of main.yaml');
  assert.ok((await page.locator('[data-testid="menu-graph"] .edge').count()) > 80);
  assert.equal(await page.locator('[data-testid="menu-graph"] .node.action').count(), 14);
  await page.locator('[data-testid="menu-graph"] .node[data-screen="airtime_confirm"]').click();
  assert.match((await page.getByTestId('menu-text-en').textContent()) ?? '', /Buy airtime KES \{amount\} for \{recipient\}\?\n1 Confirm\n2 Cancel/);
  assert.match((await page.getByTestId('menu-text-sw').textContent()) ?? '', /Nunua salio KES \{amount\} kwa \{recipient\}\?\n1 Thibitisha\n2 Ghairi/);
  await shot(page, '02-menus-graph');

  // A draft saved beside it: an orphan screen, and a Swahili END too long for Nalo (120).
  writeFileSync(
    join(menusDir, 'draft.yaml'),
    `id: draft
service_code: "*860*70#"
start: home
screens:
  home:
    text: { en: "Draft", sw: "Rasimu" }
    options:
      - { en: Bye, sw: Kwaheri, next: bye }
  bye:
    end: { en: "Bye", sw: "${'Kwaheri '.repeat(17)}" }
  orphan:
    end: { en: "Nobody", sw: "Hakuna" }
`,
  );
  await page.getByTestId('menu-source').selectOption('files');
  await page.waitForFunction(() => /problem/.test(document.querySelector('[data-testid="menu-status"]')?.textContent ?? ''));
  await page.getByTestId('menu-pick').selectOption('draft');
  await page.waitForSelector('[data-testid="menu-graph"] .node[data-screen="orphan"]');
  assert.equal(await page.locator('[data-testid="menu-graph"] .node.unreachable').getAttribute('data-screen'), 'orphan');
  assert.equal(await page.locator('[data-testid="menu-graph"] .node.overlong').getAttribute('data-screen'), 'bye');
  const problems = (await page.getByTestId('menu-problems').textContent()) ?? '';
  assert.match(problems, /draft\.yaml: screens\.orphan: unreachable from start screen "home"/);
  assert.match(problems, /draft\.yaml: screens\.bye\.end\.sw: screen is 136 characters .*limit 120 \(nalo\)/);
  await page.locator('[data-testid="menu-graph"] .node[data-screen="bye"]').click();
  assert.match((await page.getByTestId('menu-detail').textContent()) ?? '', /sw: 136 characters, limit 120 \(nalo\)/);
  await shot(page, '02b-menus-draft-flagged');
  // Reloading it is refused with the same reasons; the served menus stay.
  await page.getByTestId('menu-reload').click();
  await page.waitForFunction(() => /Reload refused/.test(document.querySelector('[data-testid="menu-status"]')?.textContent ?? ''));
  // Fixed on disk (the draft removed), the reload goes through.
  unlinkSync(join(menusDir, 'draft.yaml'));
  await page.getByTestId('menu-reload').click();
  await page.waitForFunction(() => /^Reloaded: main\.yaml v[0-9a-f]{10}$/.test(document.querySelector('[data-testid="menu-status"]')?.textContent ?? ''));
});

test('funnel: the chart of the screens dialled today', async () => {
  await page.goto(`${svc.url}/console/#funnel`);
  // Counts reach Redis every FUNNEL_FLUSH_MS: ask again until the chart has screens.
  const deadline = Date.now() + 10_000;
  for (;;) {
    await page.getByTestId('funnel-show').click();
    await page.waitForTimeout(200);
    if (Number(await page.getByTestId('funnel-chart').getAttribute('data-screens')) > 2) break;
    if (Date.now() > deadline) throw new Error('funnel stayed empty');
  }
  const main = page.locator('#funnel-rows tr[data-screen="main"] td');
  assert.ok(Number(await main.nth(1).textContent()) >= 10, 'main entered by every session dialled above');
  await shot(page, '03-funnel');
});

test('orders: filters, history, and the needs_attention queue closed with a reason', async () => {
  // An overpayment (KES 150 paid for a KES 100 order) waits for a person.
  await fetch(`${svc.url}/sandbox/_faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ checkoutPaid: { amount: 150, count: 1 } }),
  });
  await page.goto(`${svc.url}/console/#phone`);
  await dialAndType(page, 'africastalking', '*860*30#', '0712777300', ['1', '1', '100', '1']);
  const deadline = Date.now() + 20_000;
  await page.goto(`${svc.url}/console/#orders`);
  for (;;) {
    await page.getByTestId('orders-attention').click();
    await page.waitForTimeout(200);
    if ((await page.locator('[data-testid="orders-table"] tbody tr').count()) > 0) break;
    if (Date.now() > deadline) throw new Error('no order reached needs_attention');
  }
  await page.locator('[data-testid="orders-table"] tbody tr').first().getByTestId('order-open').click();
  await page.getByTestId('order-close-reason').waitFor();
  assert.equal(await page.getByTestId('order-state').textContent(), 'needs_attention');
  assert.match((await page.getByTestId('order-history').textContent()) ?? '', /awaiting_payment/);
  await shot(page, '04-orders-attention');
  await page.getByTestId('order-close-reason').fill('overpaid KES 50 refunded by hand, ticket 4411');
  await page.getByTestId('order-close').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="order-state"]')?.textContent === 'closed');
  assert.match((await page.getByTestId('order-history').textContent()) ?? '', /ticket 4411/);
  // Filters: by phone, then by day.
  await page.getByTestId('orders-state').selectOption('');
  await page.getByTestId('orders-phone').fill('0712777001');
  await page.getByTestId('orders-search').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="orders-status"]')?.textContent === '1 order(s)');
  assert.match((await page.getByTestId('orders-table').textContent()) ?? '', /fulfilled/);
  // The day filter, in the service's day (Nairobi, FUNNEL_UTC_OFFSET_MIN=180): from tomorrow finds
  // nothing, today finds the order again, a range ending yesterday nothing.
  const day = (offsetDays: number) => new Date(Date.now() + 180 * 60_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
  const search = async (from: string, to: string, expect: string) => {
    await page.getByTestId('orders-from').fill(from);
    await page.getByTestId('orders-to').fill(to);
    await page.getByTestId('orders-search').click();
    await page.waitForFunction((e) => document.querySelector('[data-testid="orders-status"]')?.textContent === e, expect);
  };
  await search(day(1), '', '0 order(s)');
  await search(day(0), day(0), '1 order(s)');
  await search(day(-3), day(-1), '0 order(s)');
});

test('campaigns: a CSV with {name} previewed (first messages, parts, cost), then sent with live progress', async () => {
  const csv = join(OUTPUT, 'campaign.csv');
  writeFileSync(csv, 'phone,name\n0712777401,Amina\n0712777402,Baraka\nnot-a-phone,Chebet\n');
  await page.goto(`${svc.url}/console/#campaigns`);
  await page.getByTestId('campaign-message').fill('Habari {name}, karibu Kemru Pay!');
  await page.getByTestId('campaign-upload').setInputFiles(csv);
  await page.getByTestId('campaign-preview').click();
  await page.getByTestId('campaign-summary').waitFor();
  assert.match(
    (await page.getByTestId('campaign-summary').textContent()) ?? '',
    /2 recipient\(s\), 1 invalid, 0 duplicate\(s\) left out; 2 batch\(es\); 2 SMS part\(s\) \(GSM-7, up to 1 per message\); cost KES 1/,
  );
  assert.deepEqual(await page.getByTestId('campaign-sample').allTextContents(), [
    '+254712777401 · 1 part(s)Habari Amina, karibu Kemru Pay!',
    '+254712777402 · 1 part(s)Habari Baraka, karibu Kemru Pay!',
  ]);
  assert.match((await page.getByTestId('campaign-invalid').textContent()) ?? '', /not-a-phone/);
  await shot(page, '05-campaign-preview');
  await page.getByTestId('campaign-send').click();
  await page.waitForFunction(() => /queued: 2 recipient/.test(document.querySelector('[data-testid="campaign-result"]')?.textContent ?? ''));
  await page.waitForFunction(() => document.querySelector('[data-testid="campaign-state"]')?.textContent === 'done', undefined, { timeout: 20_000 });
  const sms = (await (await fetch(`${svc.url}/sandbox/_sms`)).json()) as Array<{ message: string }>;
  assert.ok(sms.some((m) => m.message === 'Habari Amina, karibu Kemru Pay!'));
  assert.ok(sms.some((m) => m.message === 'Habari Baraka, karibu Kemru Pay!'));
});

test('campaigns: scheduled from the page for a few seconds ahead, nothing goes out before, then it is sent', async () => {
  const csv = join(OUTPUT, 'campaign-later.csv');
  writeFileSync(csv, 'phone\n0712777411\n');
  const text = `Later ${Date.now()}`;
  await page.goto(`${svc.url}/console/#campaigns`);
  await page.getByTestId('campaign-message').fill(text);
  await page.getByTestId('campaign-upload').setInputFiles(csv);
  // The browser's own local time, 6 s ahead, as a datetime-local input takes it.
  // (A string, not a function: tsx's helpers would not exist in the page.)
  const at = await page.evaluate<string>(`(() => {
    const d = new Date(Date.now() + 6000);
    const two = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + 'T' + two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  })()`);
  await page.getByTestId('campaign-at').fill(at);
  await page.getByTestId('campaign-preview').click();
  await page.getByTestId('campaign-summary').waitFor();
  await page.getByTestId('campaign-send').click();
  await page.waitForFunction(() => /scheduled for .*: 1 recipient/.test(document.querySelector('[data-testid="campaign-result"]')?.textContent ?? ''));
  const sent = async () => ((await (await fetch(`${svc.url}/sandbox/_sms`)).json()) as Array<{ message: string }>).some((m) => m.message === text);
  assert.equal(await sent(), false, 'nothing sent before its time');
  const deadline = Date.now() + 30_000;
  while (!(await sent())) {
    if (Date.now() > deadline) throw new Error('the scheduled campaign was never sent');
    await new Promise((r) => setTimeout(r, 250));
  }
});

test('agents: add, block with a reason, unblock', async () => {
  await page.goto(`${svc.url}/console/#agents`);
  await page.getByTestId('agent-phone').fill('0722777501');
  await page.getByTestId('agent-add').click();
  const row = page.locator('tr[data-agent="+254722777501"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('agent-status').textContent(), 'registered');
  await row.getByTestId('agent-block-reason').fill('lost phone');
  await row.getByTestId('agent-block').click();
  await page.waitForFunction(() => document.querySelector('tr[data-agent="+254722777501"] [data-testid="agent-status"]')?.textContent === 'blocked');
  const stored = (await (await fetch(`${svc.url}/api/agents/0722777501`, { headers: AUTH })).json()) as { agent: { blockedReason: string } };
  assert.equal(stored.agent.blockedReason, 'lost phone');
  await shot(page, '06-agents');
  await page.locator('tr[data-agent="+254722777501"]').getByTestId('agent-unblock').click();
  await page.waitForFunction(() => document.querySelector('tr[data-agent="+254722777501"] [data-testid="agent-status"]')?.textContent === 'registered');
});

test('every console page opens with no console errors, and the test ids are there', async () => {
  // Only what opening the pages logs counts here (the refused reload above logged its 422).
  b.errors.length = 0;
  const seen = new Set<string>();
  for (const p of ['phone', 'menus', 'funnel', 'orders', 'campaigns', 'agents']) {
    await page.goto(`${svc.url}/console/#${p}`);
    await page.reload();
    await page.waitForSelector(`body[data-page="${p}"]`);
    await page.waitForTimeout(300);
    assert.equal(await page.getByTestId(`page-${p}`).isVisible(), true, p);
    for (const id of [
      'sim-channel',
      'sim-code',
      'sim-phone',
      'sim-dial',
      'sim-input',
      'sim-send',
      'sim-screen',
      'menu-graph',
      'funnel-chart',
      'orders-table',
      'campaign-upload',
    ]) {
      if (await page.getByTestId(id).count()) seen.add(id);
    }
  }
  assert.equal(seen.size, 11, `test ids found: ${[...seen].join(', ')}`);
  assert.deepEqual(b.errors, []);
  // Signing out ends the session: the console is walled again.
  await page.getByTestId('logout').click();
  await page.waitForURL(/\/console\/login(\?.*)?(#.*)?$/);
  await page.goto(`${svc.url}/console/`);
  await page.waitForURL(/\/console\/login(\?.*)?(#.*)?$/);
});
