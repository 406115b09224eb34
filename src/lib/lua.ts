// Redis Lua scripts live in `.lua` files beside the module that runs them (`<dir>/lua/<name>.lua`,
// as BullMQ keeps its `commands/`), each opening with a header that names every KEYS[i] and
// ARGV[i] it reads:
//
//   --[[ What the script does, in a sentence or two.
//     KEYS[1] the minute log (sorted set)
//     ARGV[1] limit
//     Returns …
//   ]]
//
// The file is read once, when its module loads. The key count ioredis needs comes from the
// header, and the loader refuses a script whose body reads a KEYS or ARGV index its header does
// not name, so the header cannot drift from the code. `npm run build` copies the files into
// dist/ next to the compiled modules (scripts/copy-lua.mjs).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface LuaScript {
  /** File name without `.lua`. */
  readonly name: string;
  /** How many of the arguments are keys (the header's highest KEYS index). */
  readonly numberOfKeys: number;
  readonly source: string;
  /** SHA-1 of the source, for EVALSHA. */
  readonly sha: string;
}

/** Parses a script's text; `name` only labels errors. Exported for the loader's own tests. */
export function parseLua(name: string, source: string): LuaScript {
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(source);
  if (!header) throw new Error(`lua/${name}.lua: starts without a --[[ … ]] header naming its KEYS and ARGV`);
  const named = (kind: 'KEYS' | 'ARGV', text: string) => new Set([...text.matchAll(new RegExp(`${kind}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])));
  const body = source.slice(header[0].length);
  const keys = named('KEYS', header[1]!);
  const argv = named('ARGV', header[1]!);
  for (const [kind, inHeader] of [
    ['KEYS', keys],
    ['ARGV', argv],
  ] as const) {
    for (const i of named(kind, body)) {
      if (!inHeader.has(i)) throw new Error(`lua/${name}.lua: the body reads ${kind}[${i}], which its header does not name`);
    }
  }
  // A script that indexes KEYS by a variable (KEYS[2 + i]) names the whole range in its header.
  const numberOfKeys = keys.size ? Math.max(...keys) : 0;
  return { name, numberOfKeys, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Reads `lua/<name>.lua` beside the calling module: `loadLua(import.meta.url, 'rate-acquire')`. */
export function loadLua(moduleUrl: string, name: string): LuaScript {
  return parseLua(name, readFileSync(new URL(`lua/${name}.lua`, moduleUrl), 'utf8'));
}
