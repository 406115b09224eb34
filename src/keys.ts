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

export type KeyFn = (...parts: string[]) => string;

/** The hash tag of a family of keys, or undefined for a key that stands alone. */
export function familyTag(parts: string[]): string | undefined {
  switch (parts[0]) {
    case 'order': case 'orders': return 'orders';
    case 'ipn': case 'ipns': return 'ipns';
    case 'otp': return 'otp';
    case 'ratelimit': return 'ratelimit';
    case 'funnel': return 'funnel';
    case 'sms': return parts[1] === 'bulk' && parts[2] ? `bulk:${parts[2]}` : undefined;
    default: return undefined;
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

export interface SessionKeyNames { sess: string; lock: string; resume: string; lang: string }

/**
 * The keys of one hop: the session record and its lock (by the channel-scoped session id) and
 * the phone's resume pointer and language. In a Cluster all four carry the phone as their tag;
 * a session id is looked up together with the phone it belongs to on every hop anyway.
 */
export function sessionKeyBuilder(prefix: string, cluster: boolean): (sid: string, msisdn: string) => SessionKeyNames {
  if (!cluster) {
    const sess = `${prefix}sess:`, lock = `${prefix}sesslock:`, resume = `${prefix}resume:`, lang = `${prefix}lang:`;
    return (sid, msisdn) => ({ sess: sess + sid, lock: lock + sid, resume: resume + msisdn, lang: lang + msisdn });
  }
  return (sid, msisdn) => {
    const t = `${prefix}{${msisdn}}:`;
    return { sess: `${t}sess:${sid}`, lock: `${t}sesslock:${sid}`, resume: `${t}resume`, lang: `${t}lang` };
  };
}
