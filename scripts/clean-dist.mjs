// Empties dist/ before a build: tsc only adds and overwrites, so `npm run build` after
// `npm run build:demo` would otherwise keep the demo's dist/dev/ (the sandbox gateway) beside a
// production build that must not contain it.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
