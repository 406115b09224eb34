#!/usr/bin/env node
// Builds the operator console's static assets into build/console/ (git-ignored), run by
// `npm run build` and by `npm ci` (the `prepare` script), so `npm start` serves them and nothing
// is fetched at run time:
//   - src/console/web/**            the pages, copied as they are (plain ES modules, no bundler)
//   - vendor/chart.umd.min.js       Chart.js (funnel chart), from node_modules
//   - vendor/dagre.min.js           dagre (menu graph layout), from node_modules
//   - lib/channel-wire.js           scripts/lib/channel-wire.ts (each aggregator's side of the
//                                   wire, shared with `npm run dial`), compiled for the browser by tsc
// Prints each file with its size.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'console');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor'), { recursive: true });
cpSync(join(root, 'src', 'console', 'web'), out, { recursive: true });

// The packages' own prebuilt browser files (their "exports" do not list them: read by path).
function vendor(pkgFile, name) {
  const from = join(root, 'node_modules', pkgFile);
  if (!existsSync(from)) {
    console.error(`console-build: node_modules/${pkgFile} is missing: run npm ci (it is a devDependency)`);
    process.exit(1);
  }
  copyFileSync(from, join(out, 'vendor', name));
}
vendor('chart.js/dist/chart.umd.min.js', 'chart.umd.min.js');
vendor('@dagrejs/dagre/dist/dagre.min.js', 'dagre.min.js');

// TypeScript 7 has no JS API: the compiler is run on the one file, as a browser module.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('console-build: typescript is missing: run npm ci');
  process.exit(1);
}
execFileSync(
  process.execPath,
  [
    tsc,
    join(root, 'scripts', 'lib', 'channel-wire.ts'),
    '--outDir',
    join(out, 'lib'),
    '--target',
    'ES2022',
    '--module',
    'ES2022',
    '--lib',
    'ES2023,DOM',
    '--strict',
    '--skipLibCheck',
    '--declaration',
    'false',
    '--sourceMap',
    'false',
    '--ignoreConfig',
  ],
  { stdio: 'inherit' },
);

function list(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? list(p) : [p];
  });
}
let total = 0;
for (const f of list(out).sort()) {
  const n = statSync(f).size;
  total += n;
  console.log(`${String(n).padStart(8)}  ${relative(root, f)}`);
}
console.log(`${String(total).padStart(8)}  build/console (total)`);
