// Agents: the list (GET /api/agents), add (POST /api/agents), block with a reason and unblock
// (POST /api/agents/:phone/block | unblock).
import { api, el, status } from '../app.js';

export const agentsPage = {
  async init(root) {
    const rows = root.querySelector('#agent-rows');
    const statusBox = root.querySelector('#agents-status');
    const phone = root.querySelector('#agent-phone');

    async function act(fn, ok) {
      try {
        await fn();
        status(statusBox, ok, 'ok');
        await load();
      } catch (err) {
        status(statusBox, err.message, 'error');
      }
    }

    async function load() {
      const { agents } = await api('GET', '/api/agents');
      rows.replaceChildren(...agents.map((a) => {
        const reason = el('input', { placeholder: 'reason', size: 16, 'data-testid': 'agent-block-reason' });
        const p = encodeURIComponent(a.phone);
        const action = a.blockedAt
          ? el('button', { type: 'button', 'data-testid': 'agent-unblock', text: 'Unblock', onclick: () => act(() => api('POST', `/api/agents/${p}/unblock`), `${a.phone} unblocked`) })
          : el('span', { class: 'inline' }, reason, el('button', { type: 'button', 'data-testid': 'agent-block', text: 'Block', onclick: () => act(() => api('POST', `/api/agents/${p}/block`, { reason: reason.value }), `${a.phone} blocked`) }));
        return el('tr', { 'data-agent': a.phone },
          el('td', { text: a.phone }),
          el('td', {}, el('span', { class: `pill ${a.blockedAt ? 'blocked' : a.status}`, 'data-testid': 'agent-status', text: a.blockedAt ? 'blocked' : a.status })),
          el('td', { text: (a.createdAt ?? '').slice(0, 10) }),
          el('td', { text: (a.activatedAt ?? '').slice(0, 10) }),
          el('td', { text: a.lockedUntil ? new Date(a.lockedUntil).toLocaleTimeString() : '' }),
          el('td', { text: a.blockedAt ? `${a.blockedAt.slice(0, 10)}: ${a.blockedReason}` : '' }),
          el('td', {}, action));
      }));
    }

    root.querySelector('#agent-form').addEventListener('submit', (e) => {
      e.preventDefault();
      act(async () => { await api('POST', '/api/agents', { phone: phone.value.trim() }); phone.value = ''; }, 'Agent added');
    });
    return { show: load };
  },
};
