// A compiled menu as a graph: screens as nodes, options / next / action outcomes as edges, with
// what the console draws and `npm run menus:graph` prints (Mermaid). Built from the same
// compiled menus the engine serves, so the drawing never disagrees with the phone.
import { screenLengths } from './check.js';
import { optionLine } from './render.js';
import { inLang, type CompiledMenu, type Localized, type Screen } from './types.js';

export interface GraphNode {
  id: string;
  kind: Screen['kind'];
  /** What the screen shows, per language: title and numbered options, the prompt, or the END text. */
  text: Localized;
  action?: string;
  params?: Record<string, string>;
  input?: { var: string; type: string };
  start: boolean;
  unreachable: boolean;
  /** Longest the screen can get (worst-case variables, hints, paging), per language. */
  chars: Record<string, number>;
  /** Screen limits it does not fit, with the channels that have them. */
  overLong: Array<{ lang: string; chars: number; limit: number; channels: string[] }>;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: 'option' | 'next' | 'outcome';
  label: string;
}

export interface MenuGraph {
  id: string;
  file: string;
  serviceCode: string;
  version: string;
  languages: string[];
  start: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function shown(s: Screen, lang: string): string {
  if (s.kind === 'action') return `action ${s.action}`;
  const title = s.text ? inLang(s.text, lang) : '';
  if (s.kind !== 'options') return title;
  return [title, ...s.options!.map((o, i) => optionLine(i, inLang(o.label, lang)))].join('\n');
}

export function edgesOf(menu: CompiledMenu): GraphEdge[] {
  const edges: GraphEdge[] = [];
  const lang = menu.languages[0] ?? 'en';
  for (const s of menu.screens.values()) {
    if (s.kind === 'options') s.options!.forEach((o, i) => edges.push({ from: s.id, to: o.next, kind: 'option', label: optionLine(i, inLang(o.label, lang)) }));
    else if (s.kind === 'input') edges.push({ from: s.id, to: s.next!, kind: 'next', label: `{${s.input!.var}}` });
    else if (s.kind === 'action') for (const [outcome, to] of Object.entries(s.on ?? {})) edges.push({ from: s.id, to, kind: 'outcome', label: outcome });
  }
  return edges;
}

function reachable(menu: CompiledMenu, edges: GraphEdge[]): Set<string> {
  const seen = new Set([menu.start]);
  const queue = [menu.start];
  while (queue.length) {
    const at = queue.shift()!;
    for (const e of edges)
      if (e.from === at && !seen.has(e.to)) {
        seen.add(e.to);
        queue.push(e.to);
      }
  }
  return seen;
}

/** `limits`: each enabled channel limit with its channels (screenLimits()). */
export function menuGraph(menu: CompiledMenu, limits: Array<{ limit: number; channels: string[] }>): MenuGraph {
  const edges = edgesOf(menu);
  const seen = reachable(menu, edges);
  const nodes: GraphNode[] = [];
  for (const s of menu.screens.values()) {
    const text: Localized = {};
    const chars: Record<string, number> = {};
    const overLong: GraphNode['overLong'] = [];
    for (const lang of menu.languages) {
      text[lang] = shown(s, lang);
      for (const { limit, channels } of limits) {
        const worst = Math.max(0, ...screenLengths(menu, s, lang, limit));
        chars[lang] = Math.max(chars[lang] ?? 0, worst);
        if (worst > limit) overLong.push({ lang, chars: worst, limit, channels });
      }
    }
    nodes.push({
      id: s.id,
      kind: s.kind,
      text,
      start: s.id === menu.start,
      unreachable: !seen.has(s.id),
      chars,
      overLong,
      ...(s.kind === 'action' ? { action: s.action, params: s.params ?? {} } : {}),
      ...(s.kind === 'input' ? { input: { var: s.input.var, type: s.input.type } } : {}),
    });
  }
  return { id: menu.id, file: menu.file, serviceCode: menu.serviceCode, version: menu.version, languages: menu.languages, start: menu.start, nodes, edges };
}

const mermaidText = (t: string) => t.replace(/"/g, '#quot;').replace(/\n/g, '<br/>');

/** The menu as a Mermaid flowchart: options as boxes, inputs as parallelograms, actions as hexagons, ENDs as stadiums. */
export function mermaid(graph: MenuGraph): string {
  const lang = graph.languages[0] ?? 'en';
  const out = [`%% ${graph.file} (${graph.serviceCode}) version ${graph.version}`, 'flowchart TD'];
  for (const n of graph.nodes) {
    const label = mermaidText(`${n.id}: ${n.kind === 'action' ? `${n.action}` : (n.text[lang] ?? '').split('\n')[0]!}`);
    const shape = n.kind === 'action' ? `{{"${label}"}}` : n.kind === 'end' ? `(["${label}"])` : n.kind === 'input' ? `[/"${label}"/]` : `["${label}"]`;
    out.push(`  ${n.id}${shape}`);
  }
  for (const e of graph.edges) out.push(`  ${e.from} -->|"${mermaidText(e.label)}"| ${e.to}`);
  const flagged = graph.nodes.filter((n) => n.unreachable || n.overLong.length).map((n) => n.id);
  if (flagged.length) {
    out.push('  classDef problem stroke:#c00,stroke-width:3px');
    out.push(`  class ${flagged.join(',')} problem`);
  }
  return `${out.join('\n')}\n`;
}
