// STUB (issue 3): replaced by the Payment API Gateway 5.7.3 adapter.
import type { Gateway } from '../types.js';
import { createKyandaGateway, type GatewayDeps } from '../kyanda/client.js';

export function createPagGateway(app: GatewayDeps, baseUrl: string): Gateway {
  return { ...createKyandaGateway(app, baseUrl), name: 'pag' };
}
