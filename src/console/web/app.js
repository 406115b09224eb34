// The console's shell: session info (CSRF token, channels, menus), the API helper every page
// uses (same-origin fetch; the session cookie goes along, the CSRF token on anything but GET),
// and hash navigation between pages, each loaded once and refreshed when shown.
import { phonePage } from './pages/phone.js';
import { menusPage } from './pages/menus.js';
import { funnelPage } from './pages/funnel.js';
import { ordersPage } from './pages/orders.js';
import { campaignsPage } from './pages/campaigns.js';
import { agentsPage } from './pages/agents.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body === 'object' && body ? (body.message || body.error || `HTTP ${status}`) : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let session;

/** JSON in, JSON out; throws ApiError with the service's own message. */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['content-type'] = 'application/json'; payload = JSON.stringify(body); }
  Object.assign(headers, opts.headers || {});
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 401) { location.href = '/console/login'; throw new ApiError(401, { error: 'signed out' }); }
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : {}; } catch { json = { error: text }; }
  if (!res.ok && !opts.allow?.includes(res.status)) throw new ApiError(res.status, json);
  return opts.withStatus ? { status: res.status, json } : json;
}

/** document.createElement with attributes, properties and children. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** Replaces a node's children, skipping the null and false of conditional parts. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export function status(node, text, kind = '') {
  node.textContent = text;
  node.className = `status ${kind}`;
}

export const kes = (minor) => `KES ${(Number(minor) / 100).toLocaleString('en-KE', { minimumFractionDigits: 0, maximumFractionDigits: 2 })}`;

/** Today in the browser's zone, as the date inputs want it. */
export const today = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);

export function getSession() { return session; }

const pages = { phone: phonePage, menus: menusPage, funnel: funnelPage, orders: ordersPage, campaigns: campaignsPage, agents: agentsPage };
const loaded = {};

async function show() {
  const name = (location.hash || '#phone').slice(1);
  const page = pages[name] ? name : 'phone';
  for (const p of Object.keys(pages)) document.getElementById(`page-${p}`).hidden = p !== page;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page);
  try {
    loaded[page] ??= await pages[page].init(document.getElementById(`page-${page}`));
    await loaded[page].show?.();
  } catch (err) {
    console.warn(`page ${page}:`, err.message);
  }
  document.body.dataset.page = page;
}

async function main() {
  const res = await fetch('/console/api/session', { credentials: 'same-origin' });
  if (!res.ok) { location.href = '/console/login'; return; }
  session = await res.json();
  document.getElementById('logout').addEventListener('click', async () => {
    await api('POST', '/console/logout');
    location.href = '/console/login';
  });
  window.addEventListener('hashchange', show);
  await show();
  document.body.dataset.ready = '1';
}

main();
