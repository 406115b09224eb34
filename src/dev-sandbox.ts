// The one door from production code to the development sandbox (src/dev/sandbox/, docs/sandbox.md):
// loaded with a dynamic import only when the embedded sandbox is asked for (no GATEWAY_URL). The
// production build (tsconfig.build.json) leaves src/dev out, so there the module is absent and
// start-up stops with one line naming GATEWAY_URL. The specifier is a variable so the compiler
// does not pull src/dev into the production build through this import.
import type { ServiceModule } from './app-context.js';
import { ConfigError } from './config.js';

/** What src/dev/sandbox/module.ts exports (it checks itself against this). */
export interface DevSandboxEntry {
  sandboxModule(): ServiceModule;
}

const SANDBOX_MODULE = './dev/sandbox/module.js';

export async function loadSandboxModule(): Promise<ServiceModule> {
  let entry: DevSandboxEntry;
  try {
    entry = (await import(SANDBOX_MODULE)) as DevSandboxEntry;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message?.includes('dev/sandbox/module')) {
      throw new ConfigError(
        'config: no GATEWAY_URL, and the sandbox is a development tool not included in this build; set GATEWAY_URL (and its credentials) to your gateway, or run the demo image (docs/sandbox.md)',
      );
    }
    throw err;
  }
  return entry.sandboxModule();
}
