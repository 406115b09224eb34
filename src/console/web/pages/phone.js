// The web phone: a handset per aggregator, speaking its exact wire format to the real /ussd
// routes (lib/channel-wire.js is scripts/lib/channel-wire.ts, the aggregator side `npm run dial`
// uses, compiled for the browser). Several phones can run side by side, each with its log of
// raw requests and answers.
import { clientSession } from '../lib/channel-wire.js';
import { el, getSession } from '../app.js';

/** 0712345678, 712345678, 254712345678 → +254712345678; anything with + is kept. */
export function toE164(raw) {
  const s = raw.replace(/[\s-]/g, '');
  if (s.startsWith('+')) return s;
  if (/^0\d{9}$/.test(s)) return `+254${s.slice(1)}`;
  if (/^[17]\d{8}$/.test(s)) return `+254${s}`;
  return `+${s}`;
}

/** The dialled string against the codes the menus answer: the registered code and a deep link. */
export function splitCode(dialled, codes) {
  const bare = dialled.replace(/[#\s]/g, '').replace(/^\*+/, '');
  let best;
  for (const c of codes) {
    const b = c.replace(/[#\s]/g, '').replace(/^\*+/, '');
    if ((bare === b || bare.startsWith(`${b}*`)) && (!best || b.length > best.length)) best = b;
  }
  if (!best) return { serviceCode: dialled, deepLink: [] };
  const rest = bare.slice(best.length + 1);
  return { serviceCode: `*${best}#`, deepLink: rest ? rest.split('*') : [] };
}

/** Characters as a handset counts them on a GSM-7 screen: the extension table takes two. */
export const gsmLength = (t) => [...t].reduce((n, ch) => n + ('^{}\\[~]|€'.includes(ch) ? 2 : 1), 0);

let count = 0;

function phoneUnit(session) {
  const n = ++count;
  const channelSel = el('select', { 'data-testid': 'sim-channel' }, session.channels.map((c) => el('option', { value: c.name, text: `${c.name} (${c.method})` })));
  const code = el('input', { 'data-testid': 'sim-code', value: session.defaultServiceCode, size: 12 });
  const phone = el('input', { 'data-testid': 'sim-phone', value: `07123${String(45677 + n).padStart(5, '0')}`, size: 13 });
  const network = el('input', { 'data-testid': 'sim-network', value: '63902', size: 6 });
  const screen = el('div', { class: 'screen', 'data-testid': 'sim-screen', 'aria-live': 'polite', text: 'Dial a code to start.' });
  const meta = el('div', { class: 'meta' }, el('span', { 'data-testid': 'sim-state', text: 'idle' }), el('span', { 'data-testid': 'sim-count', text: '' }));
  const input = el('input', { 'data-testid': 'sim-input', placeholder: 'answer', disabled: true });
  const send = el('button', { type: 'button', 'data-testid': 'sim-send', text: 'Send', disabled: true });
  const dial = el('button', { type: 'button', class: 'dial-btn', 'data-testid': 'sim-dial', text: 'Dial' });
  const end = el('button', { type: 'button', class: 'end-btn', 'data-testid': 'sim-end', text: 'End', disabled: true });
  const log = el('div', { class: 'wirelog', 'data-testid': 'sim-log' });

  let wire;
  let typed = [];
  let lastReplyAt = 0;
  let busy = false;

  const channel = () => session.channels.find((c) => c.name === channelSel.value);
  const setState = (t) => { meta.firstChild.textContent = t; };

  function logEntry(kind, text) {
    log.prepend(el('pre', { class: kind, text }));
  }

  async function exchange() {
    const ch = channel();
    // Channels that number nothing take an answer arriving within the repeat window of the last
    // reply for a repeat of the previous request (docs/channels.md, "Repeats"): wait it out.
    if (ch.repeats === 'none') {
      const wait = lastReplyAt + 1100 - Date.now();
      if (wait > 0) { setState('waiting (repeat window)'); await new Promise((r) => setTimeout(r, wait)); }
    }
    return send_(wire.call(typed));
  }

  async function send_(call) {
    const q = call.query ? `?${new URLSearchParams(call.query)}` : '';
    const url = `${call.path}${q}`;
    const headers = {};
    let body;
    if (call.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(call.form).toString(); }
    else if (call.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(call.json); }
    logEntry('req', `→ ${call.method} ${url}${headers['content-type'] ? `\ncontent-type: ${headers['content-type']}` : ''}${body ? `\n${body}` : ''}`);
    const started = performance.now();
    const res = await fetch(url, { method: call.method, headers, body, credentials: 'omit' });
    const text = await res.text();
    const ms = Math.round(performance.now() - started);
    lastReplyAt = Date.now();
    const shown = ['content-type', 'freeflow'].map((h) => (res.headers.get(h) ? `\n${h}: ${res.headers.get(h)}` : '')).join('');
    logEntry(res.ok ? 'res' : 'bad', `← HTTP ${res.status} (${ms} ms)${shown}\n${text}`);
    return { res, text, ms };
  }

  function showReply(r) {
    const reply = wire.read(r.res.status, r.res.headers, r.text);
    if (!reply.ok) {
      screen.textContent = `Error: ${reply.problem}\n${r.text.slice(0, 300)}`;
      finish('error');
      return false;
    }
    screen.textContent = reply.text;
    const chars = gsmLength(reply.text);
    const limit = channel().limit;
    const c = meta.lastChild;
    c.textContent = `${reply.continues ? 'CON' : 'END'} ${chars}/${limit} · ${r.ms} ms`;
    c.className = chars > limit ? 'over' : '';
    if (reply.continues) {
      setState('session open');
      dial.disabled = false; // dialling again starts a new session (the open one is left to expire)
      input.disabled = false;
      send.disabled = false;
      end.disabled = false;
      input.focus();
    } else finish('ended');
    return reply.continues;
  }

  function finish(state) {
    setState(state);
    input.disabled = true;
    send.disabled = true;
    end.disabled = true;
    dial.disabled = false;
    wire = undefined;
  }

  async function run(fn) {
    if (busy) return;
    busy = true;
    try { await fn(); } catch (err) { screen.textContent = `Error: ${err.message}`; finish('error'); } finally { busy = false; }
  }

  dial.addEventListener('click', () => run(async () => {
    const { serviceCode, deepLink } = splitCode(code.value.trim(), session.menus.map((m) => m.serviceCode));
    wire = clientSession(channelSel.value, {
      sessionId: `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      phone: toE164(phone.value.trim()), serviceCode, deepLink, networkCode: network.value.trim(),
    });
    typed = [];
    log.replaceChildren();
    dial.disabled = true;
    setState('dialling');
    let open = showReply(await exchange());
    for (const pre of wire?.preTyped ?? []) {
      if (!open) break;
      typed.push(pre);
      open = showReply(await exchange());
    }
  }));

  const answer = () => run(async () => {
    if (!wire || send.disabled) return;
    typed.push(input.value);
    input.value = '';
    send.disabled = true;
    setState('sending');
    showReply(await exchange());
  });
  send.addEventListener('click', answer);
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') answer(); });

  end.addEventListener('click', () => run(async () => {
    if (!wire) return;
    const call = wire.end(typed);
    if (call) await send_(call);
    else logEntry('req', '(this aggregator sends nothing when a subscriber hangs up: the session expires)');
    screen.textContent = 'Call ended.';
    finish('hung up');
  }));

  const unit = el('div', { class: 'phone-unit', 'data-testid': 'sim' },
    el('div', {},
      el('div', { class: 'phone-controls' },
        el('span', { text: 'Channel' }), channelSel,
        el('span', { text: 'Dial' }), code,
        el('span', { text: 'Phone' }), phone,
        el('span', { text: 'Network' }), network),
      el('div', { class: 'handset' }, screen, meta, el('div', { class: 'keys' }, input, send), el('div', { class: 'keys' }, dial, end))),
    log);
  return unit;
}

export const phonePage = {
  async init(root) {
    const session = getSession();
    const phones = root.querySelector('#phones');
    phones.append(phoneUnit(session));
    root.querySelector('#add-phone').addEventListener('click', () => phones.append(phoneUnit(session)));
    return {};
  },
};
