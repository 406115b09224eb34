// Picks the gateway adapter named by GATEWAY. Each adapter is built on undici with an injected
// dispatcher (no globals), so tests and the embedded sandbox need no special wiring.
import type { AppContext } from '../app-context.js';
import type { Gateway } from './types.js';
import { createKyandaGateway } from './kyanda/client.js';
import { createPagGateway } from './pag/client.js';

export function createGateway(app: Pick<AppContext, 'config' | 'redis' | 'logger' | 'key'>, baseUrl: string): Gateway {
  return app.config.GATEWAY === 'pag'
    ? createPagGateway(app, `${baseUrl.replace(/\/$/, '')}${app.config.embeddedSandbox ? '/pag' : ''}`)
    : createKyandaGateway(app, baseUrl);
}
