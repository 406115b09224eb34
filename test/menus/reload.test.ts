// Menu authoring: reload without a restart (POST /api/menus/reload, SIGHUP, MENUS_WATCH), a bad
// set refused with its reasons while the old one serves on, sessions in flight finishing on
// the version they began on (Africa's Talking and a latest-only channel), the graphs and
// Mermaid drawn from the compiled menus, and menus/schema.json in step with the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService } from '../support/service.js';
import { Phone } from '../support/ussd.js';
import { waitFor } from '../support/wait.js';
import * as messages from '../../src/menus/messages.js';

const AUTH = { authorization: 'Bearer test-api-token-0123456789' };

const menu = (v: string) => `# yaml-language-server: $schema=../menus/schema.json
id: demo
service_code: "*860*50#"
start: home
screens:
  home:
    text: { en: "Hello ${v}", sw: "Habari ${v}" }
    options:
      - { en: Next, sw: Endelea, next: step }
  step:
    text: { en: "Step of ${v}", sw: "Hatua ya ${v}" }
    options:
      - { en: Finish, sw: Maliza, next: bye }
  bye:
    end: { en: "Bye from ${v}", sw: "Kwaheri ${v}" }
`;

async function hubtel(url: string, body: Record<string, unknown>): Promise<{ Message: string; Type: string }> {
  const r = await fetch(`${url}/ussd/hubtel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 200);
  return (await r.json()) as { Message: string; Type: string };
}

test('menus reload without a restart; a bad set is refused with reasons; sessions in flight finish on their version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'menus-'));
  writeFileSync(join(dir, 'demo.yaml'), menu('v1'));
  const svc = await startTestService({ MENUS_DIR: dir, MENUS_WATCH: '0' });
  try {
    const first = new Phone(svc.url, '+254712000501', '*860*50#');
    assert.equal(await first.dial(), 'CON Hello v1\n1 Next');
    const hub = { Mobile: '254712000502', SessionId: `hub-${Date.now()}`, ServiceCode: '860*50', Operator: 'mtn', ClientState: '', Platform: 'USSD' };
    assert.match((await hubtel(svc.url, { ...hub, Type: 'Initiation', Message: '*860*50#', Sequence: 1 })).Message, /^Hello v1/);

    // Without the token: refused.
    assert.equal((await fetch(`${svc.url}/api/menus/reload`, { method: 'POST' })).status, 401);

    writeFileSync(join(dir, 'demo.yaml'), menu('v2'));
    const r = await fetch(`${svc.url}/api/menus/reload`, { method: 'POST', headers: AUTH });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { ok: boolean; menus: Array<{ file: string; version: string }> };
    assert.equal(body.ok, true);
    assert.equal(body.menus[0]!.file, 'demo.yaml');

    // A new session gets v2; the sessions begun on v1 finish on v1, on both channels.
    assert.equal(await new Phone(svc.url, '+254712000503', '*860*50#').dial(), 'CON Hello v2\n1 Next');
    assert.equal(await first.send('1'), 'CON Step of v1\n1 Finish');
    assert.equal(await first.send('1'), 'END Bye from v1');
    assert.match((await hubtel(svc.url, { ...hub, Type: 'Response', Message: '1', Sequence: 2 })).Message, /^Step of v1/);

    // A broken set: refused with file, path and reason; v2 keeps serving.
    writeFileSync(join(dir, 'demo.yaml'), menu('v3').replace('next: bye', 'next: nowhere'));
    const bad = await fetch(`${svc.url}/api/menus/reload`, { method: 'POST', headers: AUTH });
    assert.equal(bad.status, 422);
    const refusal = (await bad.json()) as { error: string; problems: string[] };
    assert.equal(refusal.error, 'MENUS_INVALID');
    assert.ok(
      refusal.problems.some((p) => /demo\.yaml: screens\.step\.options\.0\.next: target screen "nowhere" does not exist/.test(p)),
      refusal.problems.join('\n'),
    );
    assert.equal(await new Phone(svc.url, '+254712000504', '*860*50#').dial(), 'CON Hello v2\n1 Next');
    // The console can draw the refused draft as it is on disk, its problems beside it.
    const draft = (await (await fetch(`${svc.url}/api/menus?source=files`, { headers: AUTH })).json()) as { problems: string[] };
    assert.ok(draft.problems.some((p) => /nowhere/.test(p)));

    // SIGHUP reloads too (what production uses, with no watcher).
    writeFileSync(join(dir, 'demo.yaml'), menu('v4'));
    process.kill(process.pid, 'SIGHUP');
    await waitFor(async () => ((await new Phone(svc.url, '+254712000505', '*860*50#').dial()).includes('v4') ? true : undefined), 5000);
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MENUS_WATCH: a saved file is served without anyone asking', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'menus-'));
  writeFileSync(join(dir, 'demo.yaml'), menu('w1'));
  const svc = await startTestService({ MENUS_DIR: dir, MENUS_WATCH: '1' });
  try {
    assert.equal(await new Phone(svc.url, '+254712000511', '*860*50#').dial(), 'CON Hello w1\n1 Next');
    writeFileSync(join(dir, 'demo.yaml'), menu('w2'));
    await waitFor(async () => ((await new Phone(svc.url, '+254712000512', '*860*50#').dial()).includes('w2') ? true : undefined), 5000);
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GET /api/menus: graphs of the served menus; drafts on disk flag unreachable and over-long screens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'menus-'));
  writeFileSync(join(dir, 'demo.yaml'), menu('g1'));
  const svc = await startTestService({ MENUS_DIR: dir, MENUS_WATCH: '0' });
  try {
    const served = (await (await fetch(`${svc.url}/api/menus`, { headers: AUTH })).json()) as {
      menus: Array<{
        id: string;
        start: string;
        nodes: Array<{ id: string; kind: string; text: Record<string, string>; unreachable: boolean; overLong: unknown[] }>;
        edges: Array<{ from: string; to: string; kind: string; label: string }>;
      }>;
    };
    const g = served.menus[0]!;
    assert.equal(g.id, 'demo');
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      ['home', 'step', 'bye'],
    );
    assert.deepEqual(g.nodes[0]!.text, { en: 'Hello g1\n1 Next', sw: 'Habari g1\n1 Endelea' });
    assert.deepEqual(g.edges[0], { from: 'home', to: 'step', kind: 'option', label: '1 Next' });
    // A draft with an orphan screen and a Swahili END too long for Nalo (120).
    writeFileSync(join(dir, 'demo.yaml'), `${menu('g2')}  orphan:\n    end: { en: "x", sw: "${'y'.repeat(150)}" }\n`);
    const files = (await (await fetch(`${svc.url}/api/menus?source=files`, { headers: AUTH })).json()) as typeof served & { problems: string[] };
    const orphan = files.menus[0]!.nodes.find((n) => n.id === 'orphan')!;
    assert.equal(orphan.unreachable, true);
    assert.deepEqual(orphan.overLong, [{ lang: 'sw', chars: 150, limit: 120, channels: ['nalo'] }]);
    assert.ok(files.problems.some((p) => /screens\.orphan: unreachable/.test(p)));
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run menus:graph prints Mermaid from the compiled menus', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/menus-graph.ts'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^%% main\.yaml \(\*860\*30#\) version [0-9a-f]{10}\nflowchart TD\n/);
  assert.match(r.stdout, /\n {2}main\["main: Welcome to Kemru Pay"\]\n/);
  assert.match(r.stdout, /\n {2}main -->\|"1 Buy airtime"\| airtime_for\n/);
  assert.match(r.stdout, /\n {2}airtime_do\{\{"airtime_do: airtime"\}\}\n/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/menus-graph.ts', 'test/fixtures/menus/broken/unreachable.yaml'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /class orphan problem/);
  assert.match(bad.stderr, /screens\.orphan: unreachable/);
});

test('menus/schema.json names every field the loader accepts, and the menus point at it', () => {
  const schema = JSON.parse(readFileSync('menus/schema.json', 'utf8')) as {
    properties: Record<string, unknown>;
    definitions: Record<string, { properties: Record<string, unknown> }>;
  };
  const keys = (o: object) => Object.keys(o).sort();
  assert.deepEqual(keys(schema.properties), ['defaults', 'formats', 'id', 'languages', 'messages', 'screens', 'service_code', 'start']);
  assert.deepEqual(keys(schema.definitions.screen!.properties), ['action', 'end', 'input', 'next', 'on', 'options', 'params', 'text']);
  assert.deepEqual(
    keys(schema.definitions.input!.properties),
    ['equals', 'error', 'min', 'max', 'pattern', 'pattern_by', 'secret', 'type', 'var', 'whole'].sort(),
  );
  assert.deepEqual(keys(schema.definitions.option!.properties), ['lang', 'next', 'set']);
  // Every key of the engine's words can be given per language.
  const { MSG } = messages;
  assert.deepEqual(keys((schema.properties.messages as { properties: object }).properties), keys(MSG));
  assert.match(readFileSync('menus/main.yaml', 'utf8'), /^# yaml-language-server: \$schema=\.\/schema\.json\n/);
});
