// Reads a V8 .cpuprofile (node --cpu-prof) and tells where the target's CPU went: self time by
// package (node_modules/<pkg>, our src/, node internals) and the hottest functions.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface Share {
  name: string;
  share: number;
}

function area(url: string): string {
  if (url === '') return '(native/gc/idle)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(src|bench)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]!.split('/').slice(0, -1).join('/') || '.'}`;
  if (url.startsWith('node:')) return 'node core';
  return url;
}

/** V8's native frames for writing to a socket: the system calls behind every reply and Redis command. */
const SOCKET_WRITES = new Set(['writev', 'writeUtf8String', 'writeBuffer', 'writeLatin1String', 'writeAsciiString']);

export function summarise(path: string, top = 12): { byArea: Share[]; byFunction: Share[]; idle: number; socketWrites: number } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  let total = 0;
  let idle = 0;
  let writes = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, n] of hits) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += n;
    if (url === '' && SOCKET_WRITES.has(functionName)) writes += n;
    if (functionName === '(idle)') {
      idle += n;
      continue;
    }
    const a = functionName === '(garbage collector)' ? '(garbage collector)' : area(url);
    areas.set(a, (areas.get(a) ?? 0) + n);
    const f = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    fns.set(f, (fns.get(f) ?? 0) + n);
  }
  const busy = total - idle || 1;
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => ({ name, share: n / busy }));
  return { byArea: rank(areas), byFunction: rank(fns), idle: total ? idle / total : 0, socketWrites: writes / busy };
}

/**
 * Share of the busy CPU spent inside functions of files whose path ends with `suffix`, callees
 * included (what a feature costs per request, e.g. the funnel's counting with its metric
 * increments). A frame below another frame of the same file is counted once.
 */
export function inclusiveShare(path: string, suffix: string): number {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const idle = p.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (hits.get(n.id) ?? 0), 0);
  const busy = p.samples.length - idle || 1;
  const sub = (id: number): number => {
    const n = byId.get(id);
    return (hits.get(id) ?? 0) + (n?.children ?? []).reduce((a, c) => a + sub(c), 0);
  };
  let inside = 0;
  const walk = (id: number): void => {
    const n = byId.get(id);
    if (!n) return;
    if (n.callFrame.url.endsWith(suffix)) inside += sub(id);
    else for (const c of n.children ?? []) walk(c);
  };
  walk(p.nodes[0]!.id);
  return inside / busy;
}
