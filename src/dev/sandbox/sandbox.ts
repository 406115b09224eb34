// The Kyanda-family API v2 sandbox over HTTP: apiKey, rate limit, faults, offline_mode, then the
// request checks (checks.ts) and the engine (transactions.ts). Also mounts the PAG imitation and
// the test/demo routes (_ledger, _sms, _ipn, _faults, _webhooks, _float, _reset).
// docs/gateways.md, "The sandbox", says what it enforces and what it assumes.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { telcoOf } from '../../lib/phone.js';
import { checkRequest } from './checks.js';
import { errorBody, httpStatusFor, isPlatformErrorCode, SandboxError } from './codes.js';
import { endpointNamed, endpoints, type EndpointSpec, type SandboxEnv } from './endpoints.js';
import { applyFaults, noFaults, takeCheckoutScenario, takeFailure, type Faults } from './faults.js';
import { IpnDispatcher } from './ipn.js';
import { OfflineQueue } from './offline.js';
import { RateLimiter } from './rate-limit.js';
import { readJsonBody } from './body.js';
import { MSG_POSTED, SandboxEngine, type Txn, type TxnIntent } from './transactions.js';
import { Webhooks } from './webhooks.js';
import { sameSecret, text, type Body } from './wire.js';
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
   * merchant had registered it in the dashboard (a sandbox assumption). Read lazily: PUBLIC_URL
   * gets its real port only after listen.
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
  webhooks: Webhooks;
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
    webhookHeader: config.GATEWAY_WEBHOOK_SIGNATURE_HEADER,
    timeScale: config.SANDBOX_IPN_TIME_SCALE,
    logger,
  });
  let registeredCallback: string | null = null;
  const callbackUrl = () => registeredCallback ?? opts.defaultCallbackUrl?.() ?? null;
  const webhooks = new Webhooks({ ipn, logger, events: config.SANDBOX_WEBHOOK_EVENTS, url: config.SANDBOX_WEBHOOK_URL, callbackUrl });
  const engine = new SandboxEngine({ config, logger, ipn, webhooks, callbackUrl });
  const limiter = new RateLimiter(config.SANDBOX_RATE_LIMIT_PER_MIN, config.SANDBOX_RATE_LIMIT_PER_DAY);
  let faults = noFaults();
  const offline = new OfflineQueue({
    timeScale: config.SANDBOX_IPN_TIME_SCALE,
    logger,
    isDown: () => faults.down,
    process: processQueued,
    giveUp: (txn) => engine.failQueued(txn, '1105', 'Payment services unavailable: offline retries exhausted.'),
  });
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
    if (txn.status === 'QUEUED') {
      return { status: 'QUEUED', status_code: '1100', merchant_reference: txn.ref, transactionId: txn.ref, message: txn.message, transactiontxt: txn.message };
    }
    if (txn.status === 'Pending') {
      return { status: 'Pending', status_code: '1100', merchant_reference: txn.ref, transactionId: txn.ref, message: txn.message, transactiontxt: txn.message };
    }
    return {
      status: 'Success',
      status_code: '0000',
      merchant_reference: txn.ref,
      transactionId: txn.ref,
      message: MSG_POSTED,
      transactiontxt: MSG_POSTED,
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
    // offline_mode: always taken at once; its checks run when it is processed, and a rejection
    // comes by IPN (docs/gateways.md, "Offline mode"). Lookups have nothing to queue.
    if (body.offline_mode === true && spec.category) {
      const txn = engine.enqueue(spec.name, body, placeholder(spec, body));
      answer(ctx, 200, accepted(txn));
      // Tried once the answer is out; a caller that hung up before it (a timeout) does not
      // stop the gateway from processing what it took ('close' has then already fired).
      if (ctx.res.destroyed || ctx.req.socket.destroyed) offline.add(txn);
      else ctx.res.once('close', () => offline.add(txn));
      return { code: '1100', ref: txn.ref };
    }
    if (faults.down) return { code: fail(ctx, '1105') };

    try {
      const { intent, signature } = checkRequest(spec, body, env, config);
      switch (intent.kind) {
        case 'balance':
          answer(ctx, 200, { status: 'Success', status_code: '0000', Account_Bal: engine.floatKes, Earnings_Bal: 0 });
          return { code: '0000' };
        case 'status': {
          // Transaction status takes the reference the gateway returned, nothing else (docs/
          // gateways.md, "Transaction status"): our own reference is "not found" (7001), as on a
          // real gateway. Verify "checks any transaction reference": ours too (docs/gateways.md,
          // "The sandbox").
          const verify = spec.name === 'verify';
          const ref = verify ? String(ctx.params.ref ?? '') : intent.ref;
          const txn = verify ? engine.find(ref) : engine.byGatewayRef(ref);
          if (!txn) throw new SandboxError('7001');
          answer(ctx, 200, { status: '200', status_code: '0000', details: engine.statusDetails(txn) });
          return { code: '0000', ref: txn.ref };
        }
        case 'callback': {
          // Sandbox assumption: re-registration is allowed (the real one needs support).
          registeredCallback = intent.url;
          const ref = engine.newRef();
          answer(ctx, 200, {
            status: 'Success',
            status_code: '0000',
            merchant_reference: ref,
            transactionId: ref,
            message: 'Callback Updated!',
            transactiontxt: 'Callback Updated!',
          });
          return { code: '0000' };
        }
        case 'telco': {
          const telco = telcoOf(intent.prefix);
          // Sandbox assumption: an unallocated prefix answers 8003 (Invalid Telco).
          if (telco === 'OTHER') throw new SandboxError('8003', 'prefix not allocated to a telco');
          answer(ctx, 200, { status: 'Success', status_code: '0000', prefix: intent.prefix, telco });
          return { code: '0000' };
        }
        case 'txn': {
          const now = Date.now();
          const dupKey = `${spec.name}|${signature}|${intent.dupSalt ?? ''}`;
          if (spec.duplicateCode && isDuplicate(dupKey, now)) throw new SandboxError(spec.duplicateCode);
          if (intent.usesFloat && intent.amount > engine.floatKes) throw new SandboxError('1107');
          if (spec.duplicateCode && config.SANDBOX_DUPLICATE_WINDOW_MS > 0) {
            recentSignatures.set(dupKey, now + config.SANDBOX_DUPLICATE_WINDOW_MS);
          }
          const txn = engine.accept(spec.name, body, intent, scenarioFor(intent));
          answer(ctx, 200, accepted(txn));
          // A synchronous vend's IPN (and a checkout's checkout.initiated) follows the answer.
          ctx.res.once('close', () => engine.afterAnswer(txn));
          return { code: txn.status === 'Success' ? '0000' : '1100', ref: txn.ref };
        }
      }
    } catch (err) {
      if (err instanceof SandboxError) return { code: fail(ctx, err.code, err.message) };
      throw err;
    }
  }

  function scenarioFor(intent: TxnIntent) {
    return intent.category === 'Checkout' ? takeCheckoutScenario(faults, config.SANDBOX_CHECKOUT_DELAY_MS) : {};
  }

  /** What a QUEUED record shows until its request is checked. */
  function placeholder(spec: EndpointSpec, body: Body): TxnIntent {
    const amount = Number(text(body, 'amount') ?? text(body, 'destination.amount') ?? 0);
    return { kind: 'txn', category: spec.category!, mode: 'sync', amount: Number.isFinite(amount) ? amount : 0, usesFloat: false, source: '', destination: '' };
  }

  /** A queued offline_mode request, tried while the service is up: judged like a direct one. */
  function processQueued(txn: Txn): void {
    const spec = endpointNamed(txn.endpoint);
    try {
      if (!spec) throw new SandboxError('5000', `no endpoint ${txn.endpoint}`);
      const { intent } = checkRequest(spec, txn.ledger.body as Body, env, config);
      if (intent.kind !== 'txn') throw new SandboxError('5000', 'not a transaction');
      engine.startQueued(txn, intent, scenarioFor(intent));
    } catch (err) {
      if (err instanceof SandboxError) engine.failQueued(txn, err.code, err.message);
      else {
        logger.error({ err, ref: txn.ref }, 'sandbox offline processing failed');
        engine.failQueued(txn, '5000', 'Unexpected error.');
      }
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
    router.get(`${prefix}/_faults`, (ctx) => answer(ctx, 200, { ...faults, queued: offline.count(), float: engine.floatKes }));
    router.post(`${prefix}/_faults`, async (ctx) => {
      const read = await readJsonBody(ctx.req, 16 * 1024);
      if (!read.ok) return answer(ctx, read.status, { error: read.reason });
      const res = applyFaults(faults, read.json);
      if (!res.ok) return answer(ctx, 400, { error: res.error });
      const wasDown = faults.down;
      faults = res.faults;
      ipn.unsigned = faults.unsignedIpn;
      let processed = 0;
      if (wasDown && !faults.down) processed = offline.drain();
      logger.info({ latencyMs: faults.latencyMs, failNext: faults.failNext, down: faults.down, processed }, 'sandbox faults set');
      answer(ctx, 200, { ...faults, processed });
    });
    // Webhook subscription, as a merchant sets it in the dashboard: { events?, url? }.
    router.get(`${prefix}/_webhooks`, (ctx) => answer(ctx, 200, webhooks.state()));
    router.post(`${prefix}/_webhooks`, async (ctx) => {
      const read = await readJsonBody(ctx.req, 16 * 1024);
      if (!read.ok) return answer(ctx, read.status, { error: read.reason });
      const res = webhooks.set(read.json);
      if (!res.ok) return answer(ctx, 400, { error: res.error });
      answer(ctx, 200, webhooks.state());
    });
    // A test route of ours: set the float to test 1107 without restarting.
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
    offline.reset();
    ipn.reset();
    webhooks.reset();
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
    webhooks,
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
      offline.reset();
      ipn.stop();
      pag.stop();
    },
  };
}
