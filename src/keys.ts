// Key names. On one node and under Sentinel (one master) every key is REDIS_PREFIX + parts
// joined by ':', exactly as before Cluster support, so a rolling upgrade keeps reading the
// sessions, orders and jobs already in Redis. In a Cluster a key carries a hash tag `{…}` when
// it belongs to a family whose keys one Lua script or MULTI touches together: Redis refuses a
// script or transaction whose keys live in different slots. Families and why they share a slot:
//   a subscriber's session  sess, sesslock, resume, lang: one script per hop reads and writes
//                           the record, its lock, the phone's resume pointer and language
//                           (tag: the phone number, so sessions spread over every shard);
//   orders                  order:<id>, order:<id>:h and the indexes orders:* change in one
//                           script, so that an order and its indexes never disagree (tag:
//                           'orders'; one slot holds the money records, a few commands per
//                           order, far below what one shard serves);
//   ipns                    ipn:<id> and its index ipns, for the same reason;
//   otp                     a send checks and counts the code, its cooldown, the phone's, the
//                           client's and the service-wide quota at once (the service-wide
//                           counter is one key anyway, so one slot costs nothing more);
//   ratelimit               the gateway limiter's window, day and waiting lists: one script;
//   a bulk campaign         sms:bulk:<id>:*: its batches, statuses and counters (tag: the id);
//   funnel                  one MULTI adds every screen's counts of the last second.
// Everything else is single-key and spreads by its own name. BullMQ's keys share the tag of
// queuePrefix, as BullMQ requires in a Cluster (its scripts touch several keys of a queue).
//
// keyNames (below) is the one place that names every key outside sessions and queues: modules
// take their names from it and join no parts themselves.
import { createHash } from 'node:crypto';

export type KeyFn = (...parts: string[]) => string;

/** The hash tag of a family of keys, or undefined for a key that stands alone. */
export function familyTag(parts: string[]): string | undefined {
  switch (parts[0]) {
    case 'order':
    case 'orders':
      return 'orders';
    case 'ipn':
    case 'ipns':
      return 'ipns';
    case 'otp':
      return 'otp';
    case 'ratelimit':
      return 'ratelimit';
    case 'funnel':
      return 'funnel';
    case 'sms':
      return parts[1] === 'bulk' && parts[2] ? `bulk:${parts[2]}` : undefined;
    default:
      return undefined;
  }
}

export function keyBuilder(prefix: string, cluster: boolean): KeyFn {
  if (!cluster) return (...parts) => prefix + parts.join(':');
  return (...parts) => {
    const tag = familyTag(parts);
    return tag === undefined ? prefix + parts.join(':') : `${prefix}{${tag}}:${parts.join(':')}`;
  };
}

/** BullMQ's `prefix`: in a Cluster wrapped in braces, as BullMQ documents for Cluster. */
export function queuePrefix(prefix: string, cluster: boolean): string {
  return cluster ? `{${prefix}bull}` : `${prefix}bull`;
}

export interface SessionKeyNames {
  sess: string;
  lock: string;
  resume: string;
  lang: string;
}

/**
 * The keys of one hop: the session record and its lock (by the channel-scoped session id) and
 * the phone's resume pointer and language. In a Cluster all four carry the phone as their tag;
 * a session id is looked up together with the phone it belongs to on every hop anyway.
 */
export function sessionKeyBuilder(prefix: string, cluster: boolean): (sid: string, msisdn: string) => SessionKeyNames {
  if (!cluster) {
    const sess = `${prefix}sess:`,
      lock = `${prefix}sesslock:`,
      resume = `${prefix}resume:`,
      lang = `${prefix}lang:`;
    return (sid, msisdn) => ({ sess: sess + sid, lock: lock + sid, resume: resume + msisdn, lang: lang + msisdn });
  }
  return (sid, msisdn) => {
    const t = `${prefix}{${msisdn}}:`;
    return { sess: `${t}sess:${sid}`, lock: `${t}sesslock:${sid}`, resume: `${t}resume`, lang: `${t}lang` };
  };
}

/**
 * Every key name of the service outside sessions and queues, by family: modules use these and
 * build no key names of their own (`app.key` stays on the context for tests and one-off tools).
 * `key` is the application's KeyFn (keyBuilder above, or a test's); the names are exactly the
 * parts joined as they always were, so on one node and in a Cluster they read the data already
 * in Redis (test/keys.unit.test.ts pins one name of each).
 */
export function keyNames(key: KeyFn) {
  return {
    /**
     * Orders (src/payments/order-store.ts): one hash per order, its history, its once-only
     * flags, and the indexes its scripts update with it (tag 'orders' in a Cluster).
     */
    orders: {
      /** hash: the order's fields and its money steps' bookkeeping (s.<step>.*) */
      order: (id: string) => key('order', id),
      /** list: the order's history, JSON entries */
      history: (id: string) => key('order', id, 'h'),
      /** string: set once when `what` (a step's SMS: sms<notice>, …) was done for the order */
      once: (id: string, what: string) => key('order', id, 'once', what),
      /** sorted set: orders not settled yet, by when they last moved (reconciliation) */
      open: () => key('orders', 'open'),
      /** sorted set: every order, by creation */
      all: () => key('orders', 'all'),
      /** sorted set: the orders in one state */
      byState: (state: string) => key('orders', 'state', state),
      /** sorted set: one phone's orders */
      byPhone: (phone: string) => key('orders', 'phone', phone),
      /**
       * string: a gateway's own reference of a money step → `<orderId>-<step>`, for IPNs that
       * carry only theirs. Looked up by the reference alone, so it stands alone (no tag).
       */
      gatewayRef: (gateway: string, gatewayRef: string) => key('gwref', gateway, gatewayRef),
    },
    /** IPNs as received (src/payments/ipn-store.ts); a record and its index change in one script (tag 'ipns'). */
    ipns: {
      /** hash: one IPN record */
      ipn: (id: string) => key('ipn', id),
      /** sorted set: every IPN, by arrival */
      all: () => key('ipns'),
      /** sorted set: IPNs naming a reference we do not know */
      unknown: () => key('ipns', 'unknown'),
    },
    /** Agents (src/agents/store.ts, src/agents/actions.ts); single-key commands, no tag. */
    agents: {
      /** hash: one agent, by E.164 phone without its '+' */
      agent: (e164: string) => key('agent', e164.replace(/^\+/, '')),
      /** sorted set: every agent's E.164 phone, by registration */
      all: () => key('agents'),
      /** string: an agent action's result, JSON, under the menu step's idempotency key */
      actionResult: (idempotencyKey: string) => key('actres', idempotencyKey),
    },
    /**
     * One-time codes (src/sms/otp.ts): a send checks and counts all of these in one script (tag
     * 'otp'). The service's own codes (internal: agent-…) live under otp:internal:…, a namespace
     * no API call can name; the client and service-wide counters apply to API codes only.
     */
    otp: {
      /** hash: the code's HMAC, id, tries, expiry */
      code: (purpose: string, msisdn: string, internal: boolean) => otpKey(key, internal, 'code', purpose, msisdn),
      /** string: present while a new code for this purpose and phone must wait */
      cooldown: (purpose: string, msisdn: string, internal: boolean) => otpKey(key, internal, 'cooldown', purpose, msisdn),
      /** counter: codes sent for this purpose and phone in the hour (the cooldown doubles with each) */
      sends: (purpose: string, msisdn: string, internal: boolean) => otpKey(key, internal, 'sends', purpose, msisdn),
      /** counter: codes sent to this phone in the hour */
      phoneQuota: (msisdn: string, internal: boolean) => otpKey(key, internal, 'quota', 'phone', msisdn),
      /** counter: codes one client address asked for in the hour */
      ipQuota: (ip: string) => key('otp', 'quota', 'ip', ip),
      /** counter: codes one client address asked for in the minute */
      ipRate: (ip: string) => key('otp', 'rate', 'ip', ip),
      /** counter: codes asked for in the minute, service-wide */
      globalRate: () => key('otp', 'rate', 'global'),
    },
    /**
     * Bulk SMS campaigns (src/sms/bulk-store.ts, bulk-guard.ts). The keys of one campaign,
     * sms:bulk:<id>:…, share the campaign's tag (its scripts and MULTIs touch several); the
     * list, the reference index and the guards stand alone.
     */
    bulk: {
      /** hash: message, encoding, parts, state and the counters */
      campaign: (id: string) => key('sms', 'bulk', id),
      /** string: batch n's recipients, comma-joined MSISDNs */
      batch: (id: string, n: number) => key('sms', 'bulk', id, 'b', String(n)),
      /** string: batch n's own text, when the message has {column} placeholders */
      batchText: (id: string, n: number) => key('sms', 'bulk', id, 't', String(n)),
      /** hash: n → batch status JSON */
      statuses: (id: string) => key('sms', 'bulk', id, 'bstat'),
      /** hash: n → "sent:<gatewayRef>" | "failed:<code>", the exactly-once record */
      final: (id: string) => key('sms', 'bulk', id, 'final'),
      /** list: "<raw>\t<reason>" of the rows refused at intake */
      invalid: (id: string) => key('sms', 'bulk', id, 'invalid'),
      /** hash: msisdn → delivery status */
      dlr: (id: string) => key('sms', 'bulk', id, 'dlr'),
      /** hash: "<n>:delivered" / "<n>:undelivered" → recipients of batch n */
      dlrCounts: (id: string) => key('sms', 'bulk', id, 'dlrn'),
      /** sorted set: campaign ids by creation (the console's list) */
      list: () => key('sms', 'bulks'),
      /** string: "<id>|<n>", so a delivery report finds its batch by the gateway's reference ('-' when there is none) */
      ref: (gatewayRef: string) => key('sms', 'ref', gatewayRef),
      /** string: "pending:<bulkId>" while an upload with this Idempotency-Key is read, then "<bulkId>"; by SHA-256 of the key */
      idempotency: (idempotencyKey: string) => key('sms', 'idem', sha256(idempotencyKey)),
      /** string: the last campaign with this content fingerprint (src/sms/list-digest.ts) */
      duplicate: (fingerprint: string) => key('sms', 'dup', fingerprint),
    },
    /**
     * The gateway's shared request allowance (src/gateway/http/rate-limiter.ts): the minute log
     * named here; rateLimitKeys() below names the rest of its family from it. One script touches
     * them all (tag 'ratelimit'). One per gateway account.
     */
    ratelimit: {
      /** PAG counts per merchant */
      pag: (merchantId: string) => key('ratelimit', 'pag', merchantId),
      /** Kyanda counts per API key; the key itself must not appear in Redis: the first 16 hex digits of its SHA-256 */
      kyanda: (apiKey: string) => key('ratelimit', 'kyanda', sha256(apiKey).slice(0, 16)),
    },
    /** The IPN URL registered with a gateway (src/payments/callback-registration.ts); single keys. */
    callbackUrl: {
      /** string: the URL registered */
      registered: (gateway: string) => key('callback-url', gateway),
      /** string: one instance's short claim to register it */
      claim: (gateway: string) => key('callback-url', gateway, 'claim'),
    },
    /** sorted set: payment steps waiting for a gateway slot, by when they began (src/payments/gateway-wait.ts). */
    gatewayWait: () => key('payments', 'gateway-wait'),
    /** The operator console (src/console/sessions.ts); single keys. */
    console: {
      /** string: a signed-in session, JSON, by SHA-256 of its cookie */
      session: (id: string) => key('console', 'sess', sha256(id)),
      /** counter: wrong passwords from one address in the window */
      failures: (ip: string) => key('console', 'fail', ip),
    },
    /** The menu funnel (src/ussd/funnel.ts): one MULTI adds a flush's counts to every screen's hash (tag 'funnel'). */
    funnel: {
      /** hash: "<screen>|<event>" → count, of one service code on one day (YYYY-MM-DD) */
      day: (code: string, day: string) => key('funnel', code, day),
    },
  };
}

/** The names of every family (keyNames); a module keeps the family it uses: `KeyNames['orders']`. */
export type KeyNames = ReturnType<typeof keyNames>;

function otpKey(key: KeyFn, internal: boolean, ...parts: string[]): string {
  return internal ? key('otp', 'internal', ...parts) : key('otp', ...parts);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * Every key of one gateway account's allowance, from its minute log's name (keyNames.ratelimit):
 * the minute log (sorted set), the rolling day log (sorted set) and the waiting callers of each
 * priority class (sorted sets, score = lease expiry). The suffixes keep the minute log's hash tag,
 * so the limiter's one script touches a single slot in a Cluster.
 */
export function rateLimitKeys<P extends string>(minute: string, priorities: readonly P[]): { minute: string; day: string; wait: Record<P, string> } {
  const wait = {} as Record<P, string>;
  for (const p of priorities) wait[p] = `${minute}:wait:${p}`;
  return { minute, day: `${minute}:day`, wait };
}
