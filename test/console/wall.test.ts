// The sign-in wall, over plain HTTP: nothing of the console answers without a session; the
// session cookie is HttpOnly and SameSite=Strict (Secure behind TLS); a console session opens
// /api/* only with its CSRF token and a same-origin Origin on state-changing requests; wrong
// passwords are counted and then refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { buildAssets, PASSWORD } from './support.js';
import { TOKEN } from '../support/api.js';

buildAssets();
const svc = await startTestService({ CONSOLE_PASSWORD: PASSWORD, CONSOLE_MAX_FAILED_LOGINS: '3' });
after(() => svc.close());
const url = svc.url;

async function login(password: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ password }),
  });
}

function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0]!;
}

test('nothing of the console is reachable without signing in', async () => {
  const page = await fetch(`${url}/console/`, { redirect: 'manual' });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/console/login');
  assert.equal((await fetch(`${url}/console`, { redirect: 'manual' })).status, 302);
  for (const path of [
    '/console/assets/app.js',
    '/console/assets/vendor/chart.umd.min.js',
    '/console/assets/index.html',
    '/console/api/session',
    '/console/anything',
  ]) {
    const r = await fetch(`${url}${path}`, { redirect: 'manual' });
    assert.equal(r.status, 401, path);
    assert.doesNotMatch(await r.text(), /import|Chart|csrf/, path);
  }
  assert.equal((await fetch(`${url}/console/logout`, { method: 'POST' })).status, 401);
  // The sign-in page is the one thing served: no script, its style allowed by hash only.
  const login = await fetch(`${url}/console/login`);
  assert.equal(login.status, 200);
  const html = await login.text();
  assert.doesNotMatch(html, /<script/);
  assert.match(login.headers.get('content-security-policy') ?? '', /script-src 'self'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.equal((await fetch(`${url}/api/orders`)).status, 401);
});

test('sign-in with the password or the API token; the cookie is HttpOnly and SameSite=Strict', async () => {
  const wrong = await login('not-the-password');
  assert.equal(wrong.status, 302);
  assert.equal(wrong.headers.get('location'), '/console/login?error=wrong');
  assert.equal(wrong.headers.get('set-cookie'), null);

  for (const secret of [PASSWORD, TOKEN]) {
    const ok = await login(secret);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/console/');
    const set = ok.headers.get('set-cookie') ?? '';
    assert.match(set, /^console_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    assert.doesNotMatch(set, /Secure/, 'plain HTTP, PUBLIC_URL http: not Secure');
    const cookie = cookieOf(ok);
    const index = await fetch(`${url}/console/`, { headers: { cookie } });
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy') ?? '', /^default-src 'none'; script-src 'self'; style-src 'self'/);
    assert.match(await index.text(), /data-testid="page-phone"/);
    const s = (await (await fetch(`${url}/console/api/session`, { headers: { cookie } })).json()) as { csrf: string; channels: Array<{ name: string }> };
    assert.equal(s.channels.length, 9);
    // Signed in, the assets folder still holds only the assets.
    for (const path of ['/console/assets/%2e%2e/%2e%2e/package.json', '/console/assets/..%2f..%2fpackage.json', '/console/assets/vendor/']) {
      assert.equal((await fetch(`${url}${path}`, { headers: { cookie } })).status, 404, path);
    }
    assert.ok(s.csrf.length >= 32);
  }
  // A cross-site form posting a password is refused outright.
  assert.equal((await login(PASSWORD, { origin: 'https://evil.example' })).status, 403);
});

test('a console session opens /api/*: reads with the cookie, writes only with the CSRF token from this origin', async () => {
  const cookie = cookieOf(await login(PASSWORD));
  const s = (await (await fetch(`${url}/console/api/session`, { headers: { cookie } })).json()) as { csrf: string };
  assert.equal((await fetch(`${url}/api/orders`, { headers: { cookie } })).status, 200);
  const reload = (headers: Record<string, string>) => fetch(`${url}/api/menus/reload`, { method: 'POST', headers: { cookie, ...headers } });
  assert.equal((await reload({})).status, 403, 'no CSRF token');
  assert.equal((await reload({ 'x-csrf-token': 'guess' })).status, 403, 'wrong CSRF token');
  assert.equal((await reload({ 'x-csrf-token': s.csrf, origin: 'https://evil.example' })).status, 403, 'another origin');
  assert.equal((await reload({ 'x-csrf-token': s.csrf, origin: url })).status, 200);
  // Signed out: the cookie opens nothing any more.
  assert.equal((await fetch(`${url}/console/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': s.csrf } })).status, 200);
  assert.equal((await fetch(`${url}/api/orders`, { headers: { cookie } })).status, 401);
  assert.equal((await fetch(`${url}/console/api/session`, { headers: { cookie } })).status, 401);
});

test('wrong passwords are counted per client and then refused (429)', async () => {
  // The earlier test used one wrong try from this address; CONSOLE_MAX_FAILED_LOGINS is 3.
  await login('wrong-1');
  await login('wrong-2');
  const r = await login(PASSWORD);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '900');
});

test('behind TLS (PUBLIC_URL https) the cookie is Secure', async () => {
  const tls = await startTestService({ CONSOLE_PASSWORD: PASSWORD, PUBLIC_URL: 'https://console.example.test', WORKERS: 'false' }, { workers: false });
  try {
    const r = await fetch(`${tls.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: PASSWORD }),
    });
    assert.equal(r.status, 303);
    assert.match(r.headers.get('set-cookie') ?? '', /; HttpOnly; SameSite=Strict; Secure$/);
  } finally {
    await tls.close();
  }
});
