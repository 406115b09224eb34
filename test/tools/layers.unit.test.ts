// Imports point downwards: the low layers (phone numbers, menus, channel adapters, gateway
// clients) know nothing of the engine, the money flows or the application that composes them, so
// each can be read, tested and replaced on its own. (File cycles are checked by madge in
// `npm run lint`; this checks the direction.) The sandbox gateway is a development tool
// (src/dev/, left out of the production build): it may import the gateway's wire modules and the
// application's module interface, but no production code imports src/dev/ statically; the one
// way in is the dynamic import in src/dev-sandbox.ts, taken only when the sandbox is asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const APP = ['src/app.ts', 'src/app-context.ts', 'src/main.ts', 'src/worker.ts'];
const rules: { layer: string; except?: string; mayNotImport: string[] }[] = [
  { layer: 'src/lib/', mayNotImport: ['src/'] },
  {
    layer: 'src/menus/',
    mayNotImport: ['src/ussd/', 'src/payments/', 'src/sms/', 'src/agents/', 'src/console/', 'src/gateway/', 'src/channels/', 'src/http/', ...APP],
  },
  { layer: 'src/channels/', mayNotImport: ['src/ussd/', 'src/payments/', 'src/sms/', 'src/agents/', 'src/console/', 'src/gateway/', 'src/menus/', ...APP] },
  {
    layer: 'src/gateway/',
    except: 'src/dev/sandbox/',
    mayNotImport: ['src/ussd/', 'src/payments/', 'src/sms/', 'src/agents/', 'src/console/', 'src/menus/', 'src/channels/', ...APP],
  },
];

/** Every relative import of a file, as a repository path ("src/ussd/actions.ts"). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
}

test('imports only point downwards between the layers', () => {
  const wrong: string[] = [];
  for (const f of files('src')) {
    for (const rule of rules) {
      if (!f.startsWith(rule.layer) || (rule.except && f.startsWith(rule.except))) continue;
      for (const target of imports(f)) {
        if (target.startsWith(rule.layer)) continue;
        if (rule.mayNotImport.some((x) => (x.endsWith('/') ? target.startsWith(x) : target === x))) wrong.push(`${f} → ${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('the check sees imports (a file of each layer imports something)', () => {
  // Guards the regex above: if it matched nothing, the first test would pass vacuously.
  for (const layer of ['src/menus/', 'src/channels/', 'src/gateway/']) {
    assert.ok(
      files(layer.slice(0, -1)).some((f) => imports(f).length > 0),
      `no imports found under ${layer}`,
    );
  }
});

test("production code reaches src/dev/ only through the loader's one dynamic import", () => {
  const dynamic = files('src')
    .filter((f) => !f.startsWith('src/dev/'))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/import\(\s*(['"`]?)([^)'"`]*)\1\s*\)/g)].map((m) => ({ f, spec: m[2]! })));
  assert.deepEqual(
    dynamic.filter((d) => d.spec.includes('dev/') || d.spec === 'SANDBOX_MODULE').map((d) => d.f),
    ['src/dev-sandbox.ts'],
  );
  assert.match(readFileSync('src/dev-sandbox.ts', 'utf8'), /const SANDBOX_MODULE = '\.\/dev\/sandbox\/module\.js';/);
});
