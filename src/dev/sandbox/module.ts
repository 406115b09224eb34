// The embedded sandbox gateway, mounted at /sandbox when GATEWAY_URL is unset (docs/sandbox.md).
// Loaded by src/dev-sandbox.ts with a dynamic import the compiler cannot follow, hence the check
// at the end that this is what the loader expects.
import type { ServiceModule } from '../../app-context.js';
import { requireApiToken } from '../../http/auth.js';
import type { DevSandboxEntry } from '../../dev-sandbox.js';
import { createKyandaSandbox, type KyandaSandbox } from './sandbox.js';

export function sandboxModule(): ServiceModule {
  let sandbox: KyandaSandbox | undefined;
  return {
    name: 'sandbox',
    init(app) {
      sandbox = createKyandaSandbox({
        config: app.config,
        logger: app.logger.child({ module: 'sandbox' }),
        // As if the merchant had registered our IPN route in the dashboard (a sandbox assumption, docs/gateways.md "The sandbox").
        defaultCallbackUrl: () => `${app.config.PUBLIC_URL}/callbacks/kyanda`,
      });
    },
    front(app) {
      // In production (SANDBOX=1, a demo) the test routes that reset, fault and read the ledger,
      // including every OTP sent, need the API token; in development they stay open.
      if (app.config.NODE_ENV !== 'production') return undefined;
      const guard = requireApiToken(app.config);
      return (ctx, next) => (ctx.path.startsWith('/sandbox/_') ? guard(ctx, next) : next());
    },
    routes(router) {
      sandbox?.routes(router);
    },
    stop() {
      sandbox?.stop();
    },
  };
}

sandboxModule satisfies DevSandboxEntry['sandboxModule'];
