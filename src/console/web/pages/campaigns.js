// Campaigns: a CSV upload with a message that may name its columns ({name}), previewed by a
// dry run (the first messages as they will go out, recipients, parts, cost, invalid numbers)
// before anything is sent, then sent now or at a chosen time (POST /api/sms/bulk, multipart,
// with an Idempotency-Key so a double click makes one campaign). Running campaigns refresh
// every two seconds while the page is open (GET /api/sms/bulk).
import { api, el, fill, kes, status } from '../app.js';
import { gsmLength } from './phone.js';

export const campaignsPage = {
  async init(root) {
    const message = root.querySelector('#campaign-message');
    const file = root.querySelector('#campaign-file');
    const at = root.querySelector('#campaign-at');
    const previewBtn = root.querySelector('#campaign-preview');
    const sendBtn = root.querySelector('#campaign-send');
    const result = root.querySelector('#campaign-result');
    const box = root.querySelector('#campaign-preview-box');
    const rows = root.querySelector('#campaign-rows');
    const counter = root.querySelector('#campaign-count');
    let previewed = '';
    let key = '';
    let timer;

    const fingerprint = () => `${message.value}\n${file.files[0]?.name}:${file.files[0]?.size}:${file.files[0]?.lastModified}\n${at.value}`;
    const invalidate = () => { if (fingerprint() !== previewed) { sendBtn.disabled = true; } };
    message.addEventListener('input', () => { counter.textContent = `${gsmLength(message.value)} characters before placeholders are filled`; invalidate(); });
    file.addEventListener('change', invalidate);
    at.addEventListener('change', invalidate);

    function form(dryRun) {
      const f = new FormData();
      // Fields before the file: the service reads the list as it arrives and needs the message
      // (its placeholders) and dryRun first.
      f.append('message', message.value);
      if (dryRun) f.append('dryRun', 'true');
      if (!dryRun && at.value) f.append('sendAt', new Date(at.value).toISOString());
      f.append('file', file.files[0]);
      return f;
    }

    previewBtn.addEventListener('click', async () => {
      if (!message.value.trim() || !file.files[0]) { status(result, 'Write a message and choose a CSV file first.', 'error'); return; }
      try {
        const r = await api('POST', '/api/sms/bulk', form(true));
        previewed = fingerprint();
        key = `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
        sendBtn.disabled = r.valid === 0;
        status(result, 'Preview ready: nothing has been sent yet.', 'ok');
        fill(box,
          el('div', { class: 'card', 'data-testid': 'campaign-summary' },
            el('p', { text: `${r.valid} recipient(s), ${r.invalid} invalid, ${r.duplicates} duplicate(s) left out; ${r.batches} batch(es); ${r.smsParts} SMS part(s) (${r.encoding}, up to ${r.parts} per message); cost ${kes(r.costMinor)} at ${kes(r.pricePerPartMinor)} per part.` }),
            el('h4', { text: 'First messages' }),
            ...r.sample.map((m) => el('div', { class: 'preview-msg', 'data-testid': 'campaign-sample' }, el('strong', { text: `${m.to} · ${m.parts} part(s)` }), el('br'), m.text)),
            r.invalidSample.length ? el('h4', { text: 'Invalid' }) : null,
            r.invalidSample.length ? el('ul', { 'data-testid': 'campaign-invalid' }, r.invalidSample.map((i) => el('li', { text: `${i.input}: ${i.reason}` }))) : null));
      } catch (err) {
        sendBtn.disabled = true;
        box.replaceChildren();
        status(result, `Refused: ${err.message}`, 'error');
      }
    });

    sendBtn.addEventListener('click', async () => {
      if (fingerprint() !== previewed) { status(result, 'Preview again: the message or file changed.', 'error'); return; }
      sendBtn.disabled = true;
      try {
        const r = await api('POST', '/api/sms/bulk', form(false), { headers: { 'idempotency-key': key } });
        status(result, `Campaign ${r.id} ${r.sendAt ? `scheduled for ${new Date(r.sendAt).toLocaleString()}` : 'queued'}: ${r.valid} recipient(s).`, 'ok');
        previewed = '';
        await refresh();
      } catch (err) {
        status(result, `Refused: ${err.message}`, 'error');
      }
    });

    async function refresh() {
      const { campaigns } = await api('GET', '/api/sms/bulk?limit=20');
      rows.replaceChildren(...campaigns.map((c) => {
        const t = c.totals;
        const done = t.batchesSent + t.batchesFailed;
        const bar = el('span');
        bar.style.width = `${t.batches ? Math.round((done / t.batches) * 100) : 100}%`;
        return el('tr', { 'data-campaign': c.id },
          el('td', { text: c.id }),
          el('td', {}, el('span', { class: `pill ${c.state}`, 'data-testid': 'campaign-state', text: c.state })),
          el('td', { text: (c.createdAt ?? '').replace('T', ' ').slice(0, 19) }),
          el('td', { text: c.sendAt ? new Date(c.sendAt).toLocaleString() : '' }),
          el('td', { class: 'num', text: String(t.valid) }),
          el('td', {}, el('div', { class: 'progress', title: `${t.recipientsSent} sent, ${t.recipientsFailed} failed` }, bar), `${t.recipientsSent}/${t.valid} sent`),
          el('td', { class: 'num', text: `${t.delivered}` }),
          el('td', { class: 'num', text: `${t.invalid}` }));
      }));
      clearTimeout(timer);
      // Live while something is on its way and the page is shown.
      if (campaigns.some((c) => c.state !== 'done') && !root.hidden) timer = setTimeout(() => refresh().catch(() => undefined), 2000);
    }
    return { show: refresh };
  },
};
