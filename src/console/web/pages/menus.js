// Menus as graphs: screens as nodes, options / next / outcomes as edges, laid out by dagre and
// drawn as SVG. Data: GET /api/menus (the compiled menus the engine serves) or ?source=files
// (what MENUS_DIR holds now, drawn even when a reload would refuse it, with its problems).
// Unreachable screens are dashed red, screens too long for some channel thick red; a click
// shows the screen's text in every language with its worst-case length.
import { api, el, fill, status } from '../app.js';

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, ...children) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
};

const W = 170;
const firstLine = (t) => (t || '').split('\n')[0];
const cut = (t, n) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

function draw(graph, container, onPick) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 46, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const lang = graph.languages[0];
  for (const n of graph.nodes) g.setNode(n.id, { width: W, height: n.kind === 'action' ? 40 : 46, n });
  graph.edges.forEach((e, i) => {
    if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, { label: e.label, kind: e.kind, width: Math.min(110, e.label.length * 5.5), height: 12 }, `e${i}`);
  });
  dagre.layout(g);
  const { width, height } = g.graph();
  const root = svg('svg', { width: Math.ceil(width), height: Math.ceil(height), viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`, 'data-testid': 'menu-graph-svg', role: 'img' });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#8792a6' }))));
  for (const ref of g.edges()) {
    const e = g.edge(ref);
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const group = svg('g', { class: `edge ${e.kind}` }, svg('path', { d, 'marker-end': 'url(#arrow)' }));
    if (e.x !== undefined) group.append(svg('text', { x: e.x, y: e.y + 3, 'text-anchor': 'middle' }, document.createTextNode(cut(e.label, 22))));
    root.append(group);
  }
  for (const id of g.nodes()) {
    const { x, y, width: w, height: h, n } = g.node(id);
    const cls = ['node', n.kind, n.start ? 'start' : '', n.unreachable ? 'unreachable' : '', n.overLong.length ? 'overlong' : ''].filter(Boolean).join(' ');
    const group = svg('g', { class: cls, 'data-screen': id, tabindex: 0 });
    if (n.kind === 'action') {
      const l = x - w / 2; const r = x + w / 2; const t = y - h / 2; const b = y + h / 2;
      group.append(svg('polygon', { points: `${l + 12},${t} ${r - 12},${t} ${r},${y} ${r - 12},${b} ${l + 12},${b} ${l},${y}` }));
    } else {
      group.append(svg('rect', { x: x - w / 2, y: y - h / 2, width: w, height: h, rx: n.kind === 'end' ? 18 : 4 }));
    }
    group.append(svg('text', { x, y: y - 4, 'text-anchor': 'middle', 'font-weight': 'bold' }, document.createTextNode(cut(id, 26))));
    const sub = n.kind === 'action' ? `⚙ ${n.action}` : cut(firstLine(n.text[lang]), 28);
    group.append(svg('text', { x, y: y + 11, 'text-anchor': 'middle' }, document.createTextNode(sub)));
    group.addEventListener('click', () => {
      for (const s of root.querySelectorAll('.node.selected')) s.classList.remove('selected');
      group.classList.add('selected');
      onPick(n);
    });
    root.append(group);
  }
  container.replaceChildren(root);
}

function detail(box, graph, n, limits) {
  const maxLimit = Math.max(...limits.map((l) => l.limit));
  fill(box,
    el('h3', { text: n.id }),
    el('p', { class: 'hint', text: `${n.kind}${n.start ? ' · start' : ''}${n.action ? ` · action ${n.action} ${JSON.stringify(n.params)}` : ''}${n.input ? ` · input ${n.input.var} (${n.input.type})` : ''}` }),
    n.unreachable ? el('p', { class: 'error', text: 'Unreachable from the start screen.' }) : null,
    ...n.overLong.map((o) => el('p', { class: 'error', text: `${o.lang}: ${o.chars} characters, limit ${o.limit} (${o.channels.join(', ')})` })),
    ...graph.languages.map((lang) => el('div', { 'data-testid': `menu-text-${lang}` },
      el('strong', { text: `${lang} · up to ${n.chars[lang] ?? 0}/${maxLimit} characters` }),
      el('pre', { text: n.text[lang] ?? '' }))),
  );
}

export const menusPage = {
  async init(root) {
    const pick = root.querySelector('#menu-pick');
    const source = root.querySelector('#menu-source');
    const statusBox = root.querySelector('#menu-status');
    const problems = root.querySelector('#menu-problems');
    const graphBox = root.querySelector('#menu-graph');
    const detailBox = root.querySelector('#menu-detail');
    let data;

    function render() {
      const graph = data.menus.find((m) => m.id === pick.value) ?? data.menus[0];
      if (!graph) { graphBox.replaceChildren(el('p', { class: 'hint', text: 'No menu to draw.' })); return; }
      draw(graph, graphBox, (n) => detail(detailBox, graph, n, data.limits));
    }

    async function load() {
      data = await api('GET', source.value === 'files' ? '/api/menus?source=files' : '/api/menus');
      const keep = pick.value;
      pick.replaceChildren(...data.menus.map((m) => el('option', { value: m.id, text: `${m.file} (${m.serviceCode})` })));
      if (data.menus.some((m) => m.id === keep)) pick.value = keep;
      const list = data.problems ?? (data.lastReload && !data.lastReload.ok ? data.lastReload.problems : []);
      problems.replaceChildren(...list.map((p) => el('li', { text: p })));
      status(statusBox, source.value === 'files' ? `Files in MENUS_DIR now: ${list.length ? `${list.length} problem(s); a reload would be refused` : 'no problem; reload to serve them'}` : `Served since ${data.loadedAt}`, list.length ? 'error' : '');
      render();
    }

    pick.addEventListener('change', render);
    source.addEventListener('change', load);
    root.querySelector('#menu-reload').addEventListener('click', async () => {
      const r = await api('POST', '/api/menus/reload', undefined, { allow: [422], withStatus: true });
      if (r.status === 200) {
        await load();
        status(statusBox, `Reloaded: ${r.json.menus.map((m) => `${m.file} v${m.version}`).join(', ')}`, 'ok');
      } else {
        problems.replaceChildren(...r.json.problems.map((p) => el('li', { text: p })));
        status(statusBox, 'Reload refused: the previous menus keep serving.', 'error');
      }
    });
    return { show: load };
  },
};
