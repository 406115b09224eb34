// Comments and docs cite only what the repository holds: every docs/<file>.md named in code
// exists, every section quoted after it ("docs/sandbox.md, "Test and demo routes"") is a heading
// of that file, every relative link in README.md and docs/ resolves, and nothing points at
// material a maintainer will not have (the design notes and gateway documents kept outside it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

function files(dir: string, exts: string[]): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'output' || n === 'node_modules' ? [] : files(p, exts);
    return exts.some((e) => p.endsWith(e)) ? [p] : [];
  });
}

const code = ['src', 'test', 'scripts', 'bench', 'menus']
  .flatMap((d) => files(d, ['.ts', '.mjs', '.yaml', '.php', '.js']))
  .filter((f) => !f.endsWith('references.unit.test.ts'));
const docs = ['README.md', ...files('docs', ['.md'])];

function headings(file: string): Set<string> {
  return new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,4} (.+)$/gm)].map((m) => m[1]!.trim()));
}

test('every docs/*.md a comment names exists, with the section it quotes', () => {
  const problems: string[] = [];
  for (const f of code) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/docs\/([a-z-]+)\.md(?:[,:]\s*"([^"\n]+)")?/g)) {
      const doc = `docs/${m[1]}.md`;
      if (!existsSync(doc)) problems.push(`${f}: ${doc} does not exist`);
      else if (m[2] && !headings(doc).has(m[2])) problems.push(`${f}: ${doc} has no section "${m[2]}"`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every relative link in README.md and docs/ resolves', () => {
  const broken: string[] = [];
  for (const f of docs) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\]\(([^)#\s:]+)(#[^)]*)?\)/g)) {
      if (!existsSync(normalize(join(dirname(f), m[1]!)))) broken.push(`${f}: ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('no comment or doc points outside the repository', () => {
  // The forms earlier comments used for notes that never were in the repository.
  const outside = /DESIGN trap|CONTRACT\.md|PROTOCOLS\.md|DESIGN\.md|KYANDA-WIRE|\.\.\/shared|notes\/[A-Z]|\bseed 0\d\d\b/;
  const found = [...code, ...docs].filter((f) => outside.test(readFileSync(f, 'utf8'))).map((f) => `${f}: ${readFileSync(f, 'utf8').match(outside)![0]}`);
  assert.deepEqual(found, []);
});
