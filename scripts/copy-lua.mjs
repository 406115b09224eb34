#!/usr/bin/env node
// Part of `npm run build`: tsc compiles src/ into dist/ but copies no other files, and the
// service reads its Redis Lua scripts (src/**/lua/*.lua, see src/lib/lua.ts) beside the
// compiled modules. Copies each one to the same place under dist/ (or the folder given as the
// first argument, for a build made elsewhere with tsc --outDir) and prints it.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');

function* luaFiles(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* luaFiles(p);
    else if (name.endsWith('.lua')) yield p;
  }
}

let n = 0;
for (const file of luaFiles(src)) {
  const to = join(dist, relative(src, file));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
  console.log(`copy-lua: ${relative(root, to)}`);
  n++;
}
console.log(`copy-lua: ${n} script(s)`);
