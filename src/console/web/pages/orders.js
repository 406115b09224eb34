// Orders: filtered by state, phone and day (GET /api/orders), each order's history
// (GET /api/orders/:id), and the needs_attention queue with retry and close-with-reason
// (POST /api/orders/:id/retry | close).
import { api, el, fill, getSession, kes, status } from '../app.js';

export const ordersPage = {
  async init(root) {
    const state = root.querySelector('#orders-state');
    const phone = root.querySelector('#orders-phone');
    const from = root.querySelector('#orders-from');
    const to = root.querySelector('#orders-to');
    const rows = root.querySelector('#orders-rows');
    const detailBox = root.querySelector('#order-detail');
    const statusBox = root.querySelector('#orders-status');
    state.append(...getSession().orderStates.map((s) => el('option', { value: s, text: s })));

    async function showOrder(id) {
      const { order, history } = await api('GET', `/api/orders/${encodeURIComponent(id)}`);
      const reason = el('input', { placeholder: 'reason, e.g. refunded by hand, ticket 4411', size: 40, 'data-testid': 'order-close-reason' });
      const actions = order.state === 'needs_attention'
        ? el('div', { class: 'row' },
          el('button', { type: 'button', 'data-testid': 'order-retry', text: 'Retry', onclick: () => act(id, 'retry') }),
          reason,
          el('button', { type: 'button', 'data-testid': 'order-close', text: 'Close with reason', onclick: () => act(id, 'close', { reason: reason.value }) }))
        : null;
      detailBox.hidden = false;
      fill(detailBox,
        el('h3', { text: `Order ${order.id}` }),
        el('p', {}, el('span', { class: `pill ${order.state}`, 'data-testid': 'order-state', text: order.state }), ` ${order.kind}, ${kes(order.amountMinor)} from ${order.phone}${order.merchant ? ` to ${order.merchant}` : ''}${order.recipient ? ` for ${order.recipient}` : ''}`),
        order.attention ? el('p', { class: 'error', text: `Needs attention: ${order.attention}` }) : null,
        actions,
        el('h4', { text: 'History' }),
        el('ol', { class: 'history', 'data-testid': 'order-history' }, history.map((h) => el('li', { text: typeof h === 'string' ? h : `${h.at ?? ''} ${h.from ?? ''} → ${h.to ?? ''}: ${h.cause ?? ''}` }))),
      );
    }

    async function act(id, what, body) {
      try {
        const r = await api('POST', `/api/orders/${encodeURIComponent(id)}/${what}`, body ?? {});
        status(statusBox, `Order ${id}: ${what === 'retry' ? 'retried' : 'closed'} (now ${r.order.state}).`, 'ok');
        await search();
        await showOrder(id);
      } catch (err) {
        status(statusBox, `Order ${id}: ${err.message}`, 'error');
      }
    }

    async function search() {
      const q = new URLSearchParams();
      if (state.value) q.set('state', state.value);
      if (phone.value.trim()) q.set('phone', phone.value.trim());
      if (from.value) q.set('from', from.value);
      if (to.value) q.set('to', to.value);
      q.set('limit', '200');
      try {
        const { orders } = await api('GET', `/api/orders?${q}`);
        rows.replaceChildren(...orders.map((o) => el('tr', { 'data-order': o.id },
          el('td', {}, el('a', { href: '#orders', text: o.id, onclick: (e) => { e.preventDefault(); showOrder(o.id); } })),
          el('td', { text: o.createdAt.replace('T', ' ').slice(0, 19) }),
          el('td', {}, el('span', { class: `pill ${o.state}`, text: o.state })),
          el('td', { text: `${o.kind}${o.pay === 'float' ? ' (float)' : ''}` }),
          el('td', { class: 'num', text: kes(o.amountMinor) }),
          el('td', { text: o.phone }),
          el('td', { text: o.reason ?? '' }),
          el('td', {}, el('button', { type: 'button', text: 'Open', 'data-testid': 'order-open', onclick: () => showOrder(o.id) })))));
        status(statusBox, `${orders.length} order(s)`);
      } catch (err) {
        status(statusBox, err.message, 'error');
      }
    }

    root.querySelector('#orders-search').addEventListener('click', search);
    root.querySelector('#orders-attention').addEventListener('click', () => { state.value = 'needs_attention'; phone.value = ''; search(); });
    return { show: search };
  },
};
