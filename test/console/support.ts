// The console's tests: the real service (real Redis, embedded sandbox), its assets built the
// way `npm run build` builds them, and Debian's Chromium driven by playwright-core. Never a
// downloaded browser: without /usr/bin/chromium these tests fail, saying how to install it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PASSWORD = 'console-password-for-tests';
/** Screenshots for people to look at (git-ignored). */
export const OUTPUT = join('test', 'output', 'console');

/** Builds build/console exactly as `npm run build` and `npm ci` do. */
export function buildAssets(): void {
  execFileSync(process.execPath, ['scripts/console-build.mjs'], { stdio: 'pipe' });
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; .ci/run does it as root). The browser tests never download a browser.`,
    );
  }
  mkdirSync(OUTPUT, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 950 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, url: string, password = PASSWORD): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.waitForURL(/\/console\/login(\?.*)?(#.*)?$/);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/console\/(#.*)?$/);
  await page.waitForSelector('body[data-ready="1"]');
}

export const shot = (page: Page, name: string) => page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
