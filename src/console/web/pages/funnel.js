// The funnel of one menu over a chosen period (GET /api/ussd/funnel): per screen, how many
// sessions entered, completed there (our END), were dropped, timed out or failed; drawn as a
// horizontal grouped bar chart with Chart.js, numbers in the table below.
import { api, el, getSession, today } from '../app.js';

const SERIES = [
  ['entered', 'Entered', '#5a7bb5'],
  ['completed', 'Completed', '#2e7d32'],
  ['dropped', 'Dropped', '#ef6c00'],
  ['timedOut', 'Timed out', '#8e24aa'],
  ['errors', 'Errors', '#c62828'],
];

export const funnelPage = {
  async init(root) {
    const code = root.querySelector('#funnel-code');
    const from = root.querySelector('#funnel-from');
    const to = root.querySelector('#funnel-to');
    const rows = root.querySelector('#funnel-rows');
    const canvas = root.querySelector('#funnel-chart');
    code.replaceChildren(...getSession().menus.map((m) => el('option', { value: m.serviceCode, text: `${m.serviceCode} (${m.id})` })));
    to.value = today();
    from.value = new Date(Date.parse(to.value) - 6 * 86400000).toISOString().slice(0, 10);
    let chart;

    async function load() {
      const q = new URLSearchParams({ serviceCode: code.value, from: from.value, to: to.value });
      const data = await api('GET', `/api/ussd/funnel?${q}`);
      // Screens nobody reached add nothing to the picture; the table keeps them all.
      const shown = data.screens.filter((s) => SERIES.some(([k]) => s[k] > 0));
      const labels = shown.map((s) => s.screen);
      const datasets = SERIES.map(([k, label, color]) => ({ label, data: shown.map((s) => s[k]), backgroundColor: color }));
      if (chart) {
        chart.data.labels = labels;
        chart.data.datasets = datasets;
        chart.update();
      } else {
        chart = new Chart(canvas, {
          type: 'bar',
          data: { labels, datasets },
          options: { indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { title: { display: true, text: `${data.serviceCode}, ${data.from} to ${data.to}` } } },
        });
      }
      chart.options.plugins.title.text = `${data.serviceCode}, ${data.from} to ${data.to}`;
      chart.update();
      canvas.dataset.screens = String(shown.length);
      rows.replaceChildren(...data.screens.map((s) => el('tr', { 'data-screen': s.screen },
        el('td', { text: s.screen }), ...SERIES.map(([k]) => el('td', { class: 'num', text: String(s[k]) })))));
    }
    root.querySelector('#funnel-show').addEventListener('click', load);
    return { show: load };
  },
};
