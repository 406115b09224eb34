// Body parsing with sane limits. `ctx.request.rawBody` keeps the exact bytes for signature checks.
import { bodyParser } from '@koa/bodyparser';

/** JSON + form, 16 KB: USSD callbacks, IPNs and small API calls. Oversized bodies get 413. */
export function smallBody() {
  return bodyParser({
    enableTypes: ['json', 'form', 'text'],
    jsonLimit: '16kb',
    formLimit: '16kb',
    textLimit: '16kb',
    encoding: 'utf-8',
  });
}
