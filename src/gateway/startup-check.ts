// Gateway settings checked once at start-up, before anything is served (docs/gateways.md,
// "5.7.3 providers and currencies"). The 5.7.3 documentation lists no provider for KES and
// calls provider 14 a simulator whose payments never complete, so against a real 5.7.3 gateway
// the currency/provider pair must be chosen explicitly, a documented provider must match its
// country's currency, and provider 14 gets a loud warning. The embedded sandbox is exempt: its
// providers are its own (14 and 40).
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../log.js';
import { DOCUMENTED_PROVIDERS, SANDBOX_COMPLETING_PROVIDER, SIMULATOR_PROVIDER } from './pag/wire.js';

/** GATEWAY, or any gateway role variable (…_GATEWAY), names the 5.7.3 adapter. */
function usesPag(config: Config): boolean {
  return Object.entries(config).some(([k, v]) => (k === 'GATEWAY' || k.endsWith('_GATEWAY')) && v === 'pag');
}

/** Throws ConfigError (one line naming the variables) or logs warnings; returns nothing. */
export function checkGatewaySettings(config: Config, logger: Pick<Logger, 'warn'>): void {
  if (!usesPag(config)) return;
  const provider = config.PAG_PROVIDER_ID;
  if (config.embeddedSandbox) {
    if (provider !== undefined && provider !== SIMULATOR_PROVIDER && provider !== SANDBOX_COMPLETING_PROVIDER) {
      logger.warn({ PAG_PROVIDER_ID: provider }, 'the embedded sandbox knows providers 14 (simulator) and 40 (completing) only; it will refuse this one');
    }
    return;
  }
  if (provider === undefined || !config.pagCurrencyFromEnv) {
    throw new ConfigError('config: PAG_PROVIDER_ID, PAG_CURRENCY: set both for a real 5.7.3 gateway (no provider is documented for KES; see docs/gateways.md)');
  }
  const currency = config.PAG_CURRENCY;
  const doc = DOCUMENTED_PROVIDERS[provider];
  if (doc && doc.currency !== 'ANY' && doc.currency !== currency) {
    throw new ConfigError(`config: PAG_PROVIDER_ID: provider ${provider} (${doc.name}, ${doc.country}) takes ${doc.currency}, not PAG_CURRENCY=${currency}`);
  }
  if (provider === SIMULATOR_PROVIDER) {
    logger.warn(
      { PAG_PROVIDER_ID: provider, gatewayUrl: config.GATEWAY_URL },
      'PAG_PROVIDER_ID=14 is the gateway\'s test simulator: its payments stay "in progress" and never complete',
    );
  } else if (!doc) {
    logger.warn(
      { PAG_PROVIDER_ID: provider, PAG_CURRENCY: currency },
      'PAG_PROVIDER_ID is not in the documented provider list: make sure it serves PAG_CURRENCY',
    );
  }
}
