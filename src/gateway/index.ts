// The gateways the service talks to, by role (docs/gateways.md, "Roles"): COLLECT_GATEWAY takes
// payments (checkout), FULFIL_GATEWAY vends and pays out (airtime, bundles, bills, refunds),
// SMS_GATEWAY sends OTPs, receipts and bulk SMS. Each defaults to GATEWAY; a gateway named by
// several roles is one client. Nothing above this layer asks a gateway's name: it asks the
// role, and the role's capabilities.
import type { Config } from '../config.js';
import type { Gateway, GatewayCapabilities, GatewayContext, GatewayName } from './types.js';
import { createKyandaGateway, KYANDA_CAPABILITIES } from './kyanda/client.js';
import { createPagGateway, PAG_CAPABILITIES } from './pag/client.js';

export type Role = 'collect' | 'fulfil' | 'sms';

export interface GatewayRoles {
  collect: Gateway;
  fulfil: Gateway;
  sms: Gateway;
  /** Every distinct gateway in use (for callbacks and shutdown). */
  all: Gateway[];
  byName(name: string): Gateway | undefined;
}

/** Capabilities by gateway kind, known without building a client (menus:check uses them). */
export const CAPABILITIES: Record<GatewayName, GatewayCapabilities> = { kyanda: KYANDA_CAPABILITIES, pag: PAG_CAPABILITIES };

/** The gateway each role uses. */
export function roleNames(c: Pick<Config, 'GATEWAY' | 'COLLECT_GATEWAY' | 'FULFIL_GATEWAY' | 'SMS_GATEWAY'>): Record<Role, GatewayName> {
  return { collect: c.COLLECT_GATEWAY ?? c.GATEWAY, fulfil: c.FULFIL_GATEWAY ?? c.GATEWAY, sms: c.SMS_GATEWAY ?? c.GATEWAY };
}

/** Where a gateway lives and how we sign for it: its own settings where given, else the shared ones. */
export function gatewaySettings(c: Config, name: GatewayName): { url: string | undefined; apiKey: string; secret: string; merchantId: string } {
  const own =
    name === 'pag'
      ? { url: c.PAG_GATEWAY_URL, apiKey: undefined, secret: c.PAG_SECRET, merchantId: c.PAG_MERCHANT_ID }
      : { url: c.KYANDA_GATEWAY_URL, apiKey: c.KYANDA_API_KEY, secret: c.KYANDA_SECRET, merchantId: c.KYANDA_MERCHANT_ID };
  return {
    url: own.url ?? c.GATEWAY_URL,
    apiKey: own.apiKey ?? c.GATEWAY_API_KEY,
    secret: own.secret ?? c.GATEWAY_SECRET,
    merchantId: own.merchantId ?? c.MERCHANT_ID,
  };
}

type Deps = GatewayContext;

/** One client per gateway kind, the embedded sandbox's when the kind has no URL of its own. */
export function createGateway(app: Deps, name: GatewayName): Gateway {
  const s = gatewaySettings(app.config, name);
  const sandboxBase = `${app.config.PUBLIC_URL}/sandbox`;
  // The clients read credentials from config: give each the settings of its own gateway.
  const deps: Deps = {
    ...app,
    config: { ...app.config, GATEWAY_URL: s.url, GATEWAY_API_KEY: s.apiKey, GATEWAY_SECRET: s.secret, MERCHANT_ID: s.merchantId, embeddedSandbox: !s.url },
  };
  return name === 'pag'
    ? createPagGateway(deps, (s.url ?? `${sandboxBase}/pag`).replace(/\/$/, ''))
    : createKyandaGateway(deps, (s.url ?? sandboxBase).replace(/\/$/, ''));
}

export function createGateways(app: Deps): GatewayRoles {
  const names = roleNames(app.config);
  const built = new Map<GatewayName, Gateway>();
  const get = (n: GatewayName) => {
    let g = built.get(n);
    if (!g) built.set(n, (g = createGateway(app, n)));
    return g;
  };
  const roles = { collect: get(names.collect), fulfil: get(names.fulfil), sms: get(names.sms) };
  return { ...roles, all: [...built.values()], byName: (n) => built.get(n as GatewayName) };
}
