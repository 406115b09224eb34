// The Kyanda-family API v2 sandbox over HTTP: apiKey, rate limit, faults, signatures, field
// rules from endpoints.ts, then the engine (transactions.ts). Also mounts the PAG imitation and
// the test/demo routes (_ledger, _sms, _faults, _reset, _ipn).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { telcoOf } from '../../lib/phone.js';
import { errorBody, httpStatusFor, isPlatformErrorCode, SandboxError } from './codes.js';
import { endpoints, signatureValue, type EndpointSpec, type SandboxEnv } from './endpoints.js';
import { applyFaults, noFaults, takeFailure, type Faults } from './faults.js';
import { IpnDispatcher } from './ipn.js';
import { RateLimiter } from './rate-limit.js';
import { readJsonBody } from './body.js';
import { MSG_POSTED, MSG_QUEUED, SandboxEngine, type Txn } from './transactions.js';
import { hmacHex, present, sameHex, sameSecret, text, type Body } from './wire.js';
import { createPagSandbox, type PagSandbox } from './pag/sandbox.js';

export interface KyandaSandboxOptions {
  config: Config;
  logger: Logger;
  /** Path prefixes the API is served under ("/sandbox"; standalone also ""). */
  prefixes?: string[];
  /** Where the PAG imitation lives. */
  pagPrefix?: string;
  /**
   * IPN target before any callback-url/create: embedded, our own /callbacks/kyanda, as if the
   * merchant had registered it in the dashboard (ASSUMED). Read lazily: PUBLIC_URL gets its
   * real port only after listen.
   */
  defaultCallbackUrl?: () => string | null;
}

export interface KyandaSandbox {
  routes(router: Router): void;
  reset(): void;
  stop(): void;
  /** For tests and the standalone runner. */
  engine: SandboxEngine;
  ipn: IpnDispatcher;
  faults(): Faults;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createKyandaSandbox(opts: KyandaSandboxOptions): KyandaSandbox {
  const { config, logger } = opts;
  const prefixes = opts.prefixes ?? ['/sandbox'];
  const pagPrefix = opts.pagPrefix ?? '/sandbox/pag';
  const env: SandboxEnv = {
    merchantId: config.MERCHANT_ID,
    kplcPrepaid: config.BILLER_KPLC_PREPAID,
    kplcPostpaid: config.BILLER_KPLC_POSTPAID,
  };
  const ipn = new IpnDispatcher({
    secret: config.GATEWAY_WEBHOOK_SECRET,
    header: config.GATEWAY_SIGNATURE_HEADER,
    timeScale: config.SANDBOX_IPN_TIME_SCALE,
    logger,
  });
  let registeredCallback: string | null = null;
  const engine = new SandboxEngine({
    config,
    logger,
    ipn,
    callbackUrl: () => registeredCallback ?? opts.defaultCallbackUrl?.() ?? null,
  });
  const limiter = new RateLimiter(config.SANDBOX_RATE_LIMIT_PER_MIN, config.SANDBOX_RATE_LIMIT_PER_DAY);
  let faults = noFaults();
  const recentSignatures = new Map<string, number>();
  const pag: PagSandbox = createPagSandbox({
    config,
    logger,
    prefix: pagPrefix,
    record: (entry) => engine.ledger.push(entry),
  });

  function isDuplicate(key: string, now: number): boolean {
    const until = recentSignatures.get(key);
    if (until !== undefined && until > now) return true;
    if (recentSignatures.size > 50_000) {
      for (const [k, v] of recentSignatures) if (v <= now) recentSignatures.delete(k);
    }
    return false;
  }

  function answer(ctx: Context, status: number, body: unknown): void {
    ctx.status = status;
    ctx.body = body;
  }

  function fail(ctx: Context, code: string, message?: string): string {
    answer(ctx, httpStatusFor(code), errorBody(code, message));
    return code;
  }

  /** An injected failure: a platform code answers its body; a bare HTTP status answers itself. */
  function injected(ctx: Context, code: string): string {
    if (isPlatformErrorCode(code)) return fail(ctx, code);
    const status = Number(code);
    if (status === 429) ctx.set('Retry-After', '1');
    answer(ctx, status, { status: 'Failed', status_code: code, message: status === 429 ? 'Rate limit exceeded.' : 'Injected failure.' });
    return code;
  }

  function accepted(txn: Txn): Record<string, unknown> {
    if (txn.status === 'Queued') {
      return { status: 'Queued', status_code: '1100', merchant_reference: txn.ref, transactionId: txn.ref, message: MSG_QUEUED, transactiontxt: MSG_QUEUED };
    }
    if (txn.status === 'Pending') {
      return { status: 'Pending', status_code: '1100', merchant_reference: txn.ref, transactionId: txn.ref, message: txn.message, transactiontxt: txn.message };
    }
    return {
      status: 'Success', status_code: '0000', merchant_reference: txn.ref, transactionId: txn.ref,
      message: MSG_POSTED, transactiontxt: MSG_POSTED,
      ...(Object.keys(txn.details).length ? { details: txn.details } : {}),
    };
  }

  /** The checks every API call goes through, in the order a real gateway would apply them. */
  async function serve(ctx: Context, spec: EndpointSpec): Promise<{ code: string; ref?: string }> {
    const apiKey = ctx.get('apiKey');
    const verdict = limiter.hit(apiKey ? `key:${apiKey}` : `ip:${ctx.ip}`);
    ctx.set('X-RateLimit-Limit', String(verdict.limit));
    ctx.set('X-RateLimit-Remaining', String(verdict.remaining));
    ctx.set('X-RateLimit-Reset', String(verdict.reset));

    let body: Body = {};
    if (spec.method === 'POST') {
      const read = await readJsonBody(ctx.req);
      if (!read.ok) {
        answer(ctx, read.status, errorBody('1109', `${read.reason}`));
        return { code: '1109' };
      }
      body = read.json;
    }
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (!verdict.allowed) {
      ctx.set('Retry-After', String(verdict.retryAfterS));
      answer(ctx, 429, { status: 'Failed', status_code: '429', message: 'Rate limit exceeded.' });
      return { code: '429' };
    }
    const injectedCode = takeFailure(faults, ctx.path);
    if (injectedCode) return { code: injected(ctx, injectedCode) };
    if (!apiKey || !sameSecret(apiKey, config.GATEWAY_API_KEY)) {
      return { code: fail(ctx, '1102') };
    }
    const offline = body.offline_mode === true;
    if (faults.down && !offline) return { code: fail(ctx, '1105') };

    try {
      for (const field of spec.required) if (!present(body, field)) throw new SandboxError('1108', field);
      if (spec.signature && !present(body, 'signature')) throw new SandboxError('1108', 'signature');
      if (spec.required.includes('MerchantID') && text(body, 'MerchantID') !== config.MERCHANT_ID) throw new SandboxError('1101');
      let signature = '';
      if (spec.signature) {
        signature = text(body, 'signature') ?? '';
        const expected = hmacHex(spec.signature.map((p) => signatureValue(body, p)).join(''), config.GATEWAY_SECRET);
        if (!sameHex(signature, expected)) throw new SandboxError('1104');
      }
      const intent = spec.validate(body, env);
      switch (intent.kind) {
        case 'balance':
          answer(ctx, 200, { status: 'Success', status_code: '0000', Account_Bal: engine.floatKes, Earnings_Bal: 0 });
          return { code: '0000' };
        case 'status': {
          const ref = spec.name === 'verify' ? String(ctx.params.ref ?? '') : intent.ref;
          const txn = engine.find(ref);
          if (!txn) throw new SandboxError('7001');
          answer(ctx, 200, { status: '200', status_code: '0000', details: engine.statusDetails(txn) });
          return { code: '0000', ref: txn.ref };
        }
        case 'callback': {
          // ASSUMED: re-registration allowed in the sandbox (the real one needs support).
          registeredCallback = intent.url;
          const ref = engine.newRef();
          answer(ctx, 200, { status: 'Success', status_code: '0000', merchant_reference: ref, transactionId: ref, message: 'Callback Updated!', transactiontxt: 'Callback Updated!' });
          return { code: '0000' };
        }
        case 'telco': {
          const telco = telcoOf(intent.prefix);
          // ASSUMED: an unallocated prefix answers 8003 (Invalid Telco).
          if (telco === 'OTHER') throw new SandboxError('8003', 'prefix not allocated to a telco');
          answer(ctx, 200, { status: 'Success', status_code: '0000', prefix: intent.prefix, telco });
          return { code: '0000' };
        }
        case 'txn': {
          const now = Date.now();
          const dupKey = `${spec.name}|${signature}|${intent.dupSalt ?? ''}`;
          if (spec.duplicateCode && isDuplicate(dupKey, now)) throw new SandboxError(spec.duplicateCode);
          const queued = faults.down && offline;
          // Offline: float is checked when processed; rejection comes by IPN (seed 002).
          if (!queued && intent.usesFloat && intent.amount > engine.floatKes) throw new SandboxError('1107');
          if (spec.duplicateCode && config.SANDBOX_DUPLICATE_WINDOW_MS > 0) {
            recentSignatures.set(dupKey, now + config.SANDBOX_DUPLICATE_WINDOW_MS);
          }
          const txn = engine.accept(spec.name, body, intent, queued);
          answer(ctx, 200, accepted(txn));
          // A synchronous vend's IPN follows the response, never inside it.
          if (txn.status === 'Success') ctx.res.once('close', () => engine.sendIpn(txn));
          return { code: txn.status === 'Success' ? '0000' : '1100', ref: txn.ref };
        }
      }
    } catch (err) {
      if (err instanceof SandboxError) return { code: fail(ctx, err.code, err.message) };
      throw err;
    }
  }

  function handler(spec: EndpointSpec) {
    return async (ctx: Context) => {
      const started = Date.now();
      let outcome: { code: string; ref?: string };
      try {
        outcome = await serve(ctx, spec);
      } catch (err) {
        logger.error({ err, endpoint: spec.name }, 'sandbox internal error');
        outcome = { code: fail(ctx, '5000') };
      }
      // `code` is a redacted log key (OTP codes), hence status_code.
      logger.info({ endpoint: spec.name, status_code: outcome.code, http: ctx.status, ms: Date.now() - started, ref: outcome.ref }, 'sandbox request');
    };
  }

  /** Latency, failNext and "down" apply to the PAG imitation too (no offline_mode there). */
  async function pagFaultGate(ctx: Context, next: () => Promise<unknown>): Promise<void> {
    // router.use() middleware runs for every route of the app, not only the PAG ones: without
    // this check a sandbox fault would also slow or break /ussd, /callbacks and /api.
    if (!ctx.path.startsWith(`${pagPrefix}/`)) return void (await next());
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const code = takeFailure(faults, ctx.path);
    if (code) {
      injected(ctx, code);
      return;
    }
    if (faults.down) {
      fail(ctx, '1105');
      return;
    }
    await next();
  }

  function debugRoutes(router: Router, prefix: string): void {
    router.get(`${prefix}/_ledger`, (ctx) => answer(ctx, 200, engine.ledger));
    router.get(`${prefix}/_sms`, (ctx) => answer(ctx, 200, engine.sms));
    router.get(`${prefix}/_ipn`, (ctx) => answer(ctx, 200, ipn.list()));
    router.get(`${prefix}/_faults`, (ctx) => answer(ctx, 200, { ...faults, queued: engine.queuedCount(), float: engine.floatKes }));
    router.post(`${prefix}/_faults`, async (ctx) => {
      const read = await readJsonBody(ctx.req, 16 * 1024);
      if (!read.ok) return answer(ctx, read.status, { error: read.reason });
      const res = applyFaults(faults, read.json);
      if (!res.ok) return answer(ctx, 400, { error: res.error });
      const wasDown = faults.down;
      faults = res.faults;
      let processed = 0;
      if (wasDown && !faults.down) processed = engine.drainQueue();
      logger.info({ latencyMs: faults.latencyMs, failNext: faults.failNext, down: faults.down, processed }, 'sandbox faults set');
      answer(ctx, 200, { ...faults, processed });
    });
    // Extra (not in CONTRACT.md): set the float to test 1107 without restarting.
    router.post(`${prefix}/_float`, async (ctx) => {
      const read = await readJsonBody(ctx.req, 16 * 1024);
      const kes = read.ok ? read.json.kes : undefined;
      if (typeof kes !== 'number' || !Number.isInteger(kes) || kes < 0) return answer(ctx, 400, { error: 'body must be { "kes": <whole KES ≥ 0> }' });
      engine.floatKes = kes;
      answer(ctx, 200, { kes });
    });
    router.post(`${prefix}/_reset`, async (ctx) => {
      await readJsonBody(ctx.req, 16 * 1024);
      reset();
      answer(ctx, 200, { status: 'reset' });
    });
  }

  function reset(): void {
    engine.reset();
    ipn.reset();
    limiter.reset();
    recentSignatures.clear();
    faults = noFaults();
    registeredCallback = null;
    pag.reset();
    logger.info('sandbox reset');
  }

  return {
    engine,
    ipn,
    faults: () => faults,
    routes(router: Router) {
      for (const prefix of prefixes) {
        debugRoutes(router, prefix);
        for (const spec of endpoints()) {
          if (spec.method === 'GET') router.get(`${prefix}${spec.path}`, handler(spec));
          else router.post(`${prefix}${spec.path}`, handler(spec));
        }
      }
      const pagRouter = new Router();
      pagRouter.use(pagFaultGate);
      pag.routes(pagRouter);
      router.use(pagRouter.routes());
    },
    reset,
    stop() {
      engine.stop();
      ipn.stop();
      pag.stop();
    },
  };
}
