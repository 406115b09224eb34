// The gateway's IPN URL is set once (docs/gateways.md, "Callback URL"): the documentation says
// it cannot be changed through the API once registered. So it is registered once and
// remembered in Redis (instances sharing one Redis: the one holding a short claim registers,
// the others look again until it is remembered); a refusal that says it is already set counts as done; a gateway that
// holds another URL than PUBLIC_URL's is an error for a person (support must change it). Only
// transient failures (network, 1105, 429) are retried, with a bounded number of tries.
import type { AppContext } from '../app-context.js';
import type { Gateway } from '../gateway/types.js';
import { keyNames } from '../keys.js';

const MAX_TRIES = 8;
/** How long one instance's claim to register lasts (a crashed instance's claim runs out). */
const CLAIM_MS = 30_000;
/** How soon an instance that found another's claim looks again. */
const RECHECK_MS = 2_000;
/** Answers meaning "a URL is registered already" (6001: cannot register the URL). */
const ALREADY_SET = new Set(['6001']);

export function callbackRegistration(app: Pick<AppContext, 'config' | 'key' | 'logger' | 'redis'>, gw: Gateway): { start(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const url = `${app.config.PUBLIC_URL}/callbacks/${gw.name}`;
  const names = keyNames(app.key).callbackUrl;
  const key = names.registered(gw.name);
  const claim = names.claim(gw.name);

  async function attempt(n: number): Promise<void> {
    if (stopped) return;
    let remembered: string | null = null;
    try {
      remembered = await app.redis.get(key);
    } catch {
      /* Redis down: try to register anyway; SET below may fail too and is retried */
    }
    if (remembered === url) {
      app.logger.info({ gateway: gw.name, url }, 'IPN callback URL already registered');
      return;
    }
    if (remembered) {
      app.logger.error(
        { gateway: gw.name, registered: remembered, wanted: url },
        "the gateway holds another IPN URL than this PUBLIC_URL; it can only be changed by the gateway's support",
      );
      return;
    }
    // Another instance starting at the same time may be registering it: one at a time.
    const claimed = await app.redis.set(claim, url, 'PX', CLAIM_MS, 'NX').catch(() => 'OK' as const); // Redis down: try anyway
    if (claimed !== 'OK') {
      timer = setTimeout(() => void attempt(n), RECHECK_MS);
      timer.unref();
      return;
    }
    let failure: { code: string; message: string; retryable: boolean } | undefined;
    try {
      const r = await gw.registerCallback(url);
      if (r.kind === 'failed' || r.kind === 'unknown')
        failure = { code: r.error.code, message: r.error.message, retryable: r.kind === 'unknown' || r.error.retryable };
    } catch (err) {
      failure = { code: 'ERROR', message: (err as Error).message, retryable: true };
    }
    if (!failure || ALREADY_SET.has(failure.code)) {
      await app.redis.set(key, url).catch(() => undefined);
      await app.redis.del(claim).catch(() => undefined);
      if (failure)
        app.logger.warn(
          { gateway: gw.name, url, code: failure.code },
          'the gateway says an IPN URL is already registered; if it is not this one, ask its support to change it',
        );
      else app.logger.info({ gateway: gw.name, url }, 'IPN callback URL registered');
      return;
    }
    await app.redis.del(claim).catch(() => undefined);
    if (!failure.retryable || n >= MAX_TRIES) {
      app.logger.error(
        { gateway: gw.name, url, attempt: n, err: `${failure.code} ${failure.message}` },
        'IPN callback URL not registered; IPNs will not arrive (reconciliation still looks orders up)',
      );
      return;
    }
    const delay = Math.min(300_000, 2_000 * 2 ** (n - 1));
    app.logger.warn(
      { gateway: gw.name, url, attempt: n, retryInMs: delay, err: `${failure.code} ${failure.message}` },
      'IPN callback registration failed; will retry',
    );
    timer = setTimeout(() => void attempt(n + 1), delay);
    timer.unref();
  }

  return {
    start: () => void attempt(1),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
