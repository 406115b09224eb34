// The only console page served without a session: self-contained (its style inline, allowed by
// its hash in the Content-Security-Policy), no script, nothing else of the console.
import { createHash } from 'node:crypto';

const STYLE = `body{font:16px/1.4 system-ui,sans-serif;background:#f4f5f7;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 12px #0002;width:20rem}
h1{font-size:1.2rem;margin:0 0 1rem}label{display:block;margin-bottom:.3rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;margin-bottom:1rem}
button{width:100%;padding:.6rem;font-size:1rem;background:#1f6feb;color:#fff;border:0;border-radius:4px}
.error{color:#b00020;margin:0 0 1rem}.note{color:#555;font-size:.85rem}`;

export const LOGIN_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function loginPage(o: { enabled: boolean; error: string }): string {
  const error = o.error === 'wrong' ? 'Wrong password or token.' : o.error ? esc(o.error.slice(0, 80)) : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · USSD console</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><form method="post" action="/console/login" data-testid="login-form">
<h1>USSD &amp; SMS console</h1>
${error ? `<p class="error" data-testid="login-error">${error}</p>` : ''}
${
  o.enabled
    ? `<label for="password">API token or console password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus data-testid="login-password">
<button type="submit" data-testid="login-submit">Sign in</button>`
    : '<p class="error">The console is off: set CONSOLE_PASSWORD or API_TOKEN.</p>'
}
<p class="note">Signing in sets one cookie for this console (HttpOnly, SameSite=Strict).</p>
</form></body></html>`;
}
