// The checks a Kyanda-family request body goes through once its apiKey is accepted, in the order
// the sandbox applies them: required fields (1108), MerchantID (1101), signature over the exact
// strings received (1104), then the endpoint's own field rules. Shared by direct requests and
// queued offline_mode ones, so both are judged the same way.
import type { Config } from '../../config.js';
import { SandboxError } from './codes.js';
import { fieldPath, signatureBase, type EndpointSpec, type Intent, type SandboxEnv } from './endpoints.js';
import { hmacHex, present, sameHex, text, type Body } from './wire.js';

export interface Checked {
  intent: Intent;
  /** The signature as sent ("" when the endpoint is unsigned). */
  signature: string;
}

/** Throws SandboxError with the platform code of the first problem. */
export function checkRequest(spec: EndpointSpec, body: Body, env: SandboxEnv, config: Pick<Config, 'MERCHANT_ID' | 'GATEWAY_SECRET'>): Checked {
  for (const field of spec.required) if (!present(body, fieldPath(spec, body, field))) throw new SandboxError('1108', field);
  if (spec.signature && !present(body, 'signature')) throw new SandboxError('1108', 'signature');
  if (spec.required.includes('MerchantID') && text(body, 'MerchantID') !== config.MERCHANT_ID) throw new SandboxError('1101');
  let signature = '';
  if (spec.signature) {
    signature = text(body, 'signature') ?? '';
    if (!sameHex(signature, hmacHex(signatureBase(spec, body), config.GATEWAY_SECRET))) throw new SandboxError('1104');
  }
  return { intent: spec.validate(body, env), signature };
}
