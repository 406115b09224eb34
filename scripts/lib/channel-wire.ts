// The aggregator's side of every channel the service speaks (docs/channels.md): what each one
// sends for a session's start and each answer, and how it reads our reply. Used by
// `npm run dial -- --channel <name>` and its tests; the service's own adapters are in
// src/channels/, written separately so a misreading on one side shows up on the other.

export const DIAL_CHANNELS = ['africastalking', 'hubtel', 'arkesel', 'nalo', 'beem', 'emergent', 'safaricom', 'airtel', 'infobip'] as const;
export type DialChannel = (typeof DIAL_CHANNELS)[number];

export interface WireCall {
  method: 'GET' | 'POST';
  /** Path under the service's base URL. */
  path: string;
  query?: Record<string, string>;
  form?: Record<string, string>;
  json?: unknown;
}

export type WireReply = { ok: true; continues: boolean; text: string } | { ok: false; problem: string };

export interface SessionOptions {
  sessionId: string;
  /** E.164 (+2547…); each channel sends its own form of it. */
  phone: string;
  /** The registered code (*860*30#) and the answers a longer dial string carried (*860*30*1*2#). */
  serviceCode: string;
  deepLink: string[];
  networkCode: string;
}

/** One subscriber session on one channel: the request for what has been typed so far, and the reply read back. */
export interface WireSession {
  readonly channel: DialChannel;
  /** Answers sent for the subscriber right after the first screen (Beem carries no dial string: its deep link goes this way). */
  readonly preTyped: string[];
  /** `typed`: every answer typed after dialling, in order; the call sends what the channel sends. */
  call(typed: string[]): WireCall;
  read(status: number, headers: Headers, body: string): WireReply;
  /**
   * How the aggregator tells us the subscriber hung up (`typed`: the answers so far), or
   * undefined on channels that send nothing then (the session just expires).
   */
  end(typed: string[]): WireCall | undefined;
}

const bare = (code: string) => code.replace(/^\*+/, '').replace(/#+$/, '');
const dialString = (o: SessionOptions) => `*${[bare(o.serviceCode), ...o.deepLink].join('*')}#`;

function conEnd(body: string): WireReply {
  const m = /^(CON|END)(?: |$)/.exec(body);
  if (!m) return { ok: false, problem: 'the reply does not start with "CON " or "END " (the phone would show an error)' };
  return { ok: true, continues: m[1] === 'CON', text: body.slice(m[0].length) };
}

function jsonOf(body: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function fromJson(body: string, read: (o: Record<string, unknown>) => WireReply): WireReply {
  const o = jsonOf(body);
  return o ? read(o) : { ok: false, problem: 'the reply is not a JSON object' };
}

const text = (v: unknown, name: string): string | WireReply => (typeof v === 'string' ? v : { ok: false, problem: `the reply has no text ${name}` });

export function clientSession(channel: DialChannel, o: SessionOptions): WireSession {
  const msisdn = o.phone.replace(/^\+/, '');
  const last = (typed: string[]) => typed.at(-1) ?? '';
  let beemRequestId = 0;
  // The channels' hang-up signals (docs/channels.md, "Ends"); the others send none.
  const ends: Partial<Record<DialChannel, (typed: string[]) => WireCall>> = {
    africastalking: (typed) => ({
      method: 'POST',
      path: '/ussd/africastalking/events',
      form: {
        sessionId: o.sessionId,
        serviceCode: o.serviceCode,
        phoneNumber: o.phone,
        networkCode: o.networkCode,
        status: 'Incomplete',
        hopsCount: String(typed.length + 1),
        input: typed.at(-1) ?? '',
      },
    }),
    hubtel: (typed) => ({
      method: 'POST',
      path: '/ussd/hubtel',
      json: {
        Type: 'Release',
        Mobile: msisdn,
        SessionId: o.sessionId,
        ServiceCode: bare(o.serviceCode),
        Message: '',
        Operator: 'vodafone',
        Sequence: typed.length + 2,
        ClientState: '',
        Platform: 'USSD',
      },
    }),
    emergent: () => ({
      method: 'POST',
      path: '/ussd/emergent',
      json: { SessionId: o.sessionId, Mobile: msisdn, USERID: 'dial', Type: 'Release', Message: '', Operator: 'vodafone', ServiceCode: bare(o.serviceCode) },
    }),
    beem: () => ({
      method: 'POST',
      path: '/ussd/beem',
      json: { command: 'terminate', msisdn, session_id: o.sessionId, operator: 'vodacom', payload: { request_id: beemRequestId, response: '' } },
    }),
    infobip: () => ({ method: 'POST', path: `/ussd/infobip/${encodeURIComponent(o.sessionId)}/end`, json: { msisdn, text: '', shortCode: o.serviceCode } }),
  };
  const session = (
    call: (typed: string[]) => WireCall,
    read: (status: number, headers: Headers, body: string) => WireReply,
    preTyped: string[] = [],
  ): WireSession => ({
    channel,
    preTyped,
    call,
    read: (status, headers, body) => (status !== 200 ? { ok: false, problem: `HTTP ${status}` } : read(status, headers, body)),
    end: (typed) => ends[channel]?.(typed),
  });
  switch (channel) {
    case 'africastalking':
      return session(
        (typed) => ({
          method: 'POST',
          path: '/ussd',
          form: {
            sessionId: o.sessionId,
            serviceCode: o.serviceCode,
            phoneNumber: o.phone,
            networkCode: o.networkCode,
            text: [...o.deepLink, ...typed].join('*'),
          },
        }),
        (_s, _h, body) => conEnd(body),
      );
    case 'safaricom':
      return session(
        (typed) => ({
          method: 'GET',
          path: '/ussd/safaricom',
          query: { ORIG: msisdn, DEST: o.serviceCode, SESSION_ID: o.sessionId, USSD_PARAMS: [...o.deepLink, ...typed].join('*') },
        }),
        (_s, _h, body) => conEnd(body),
      );
    case 'hubtel':
      return session(
        (typed) => ({
          method: 'POST',
          path: '/ussd/hubtel',
          json:
            typed.length === 0
              ? {
                  Type: 'Initiation',
                  Mobile: msisdn,
                  SessionId: o.sessionId,
                  ServiceCode: bare(o.serviceCode),
                  Message: dialString(o),
                  Operator: 'vodafone',
                  Sequence: 1,
                  ClientState: '',
                  Platform: 'USSD',
                }
              : {
                  Type: 'Response',
                  Mobile: msisdn,
                  SessionId: o.sessionId,
                  ServiceCode: bare(o.serviceCode),
                  Message: last(typed),
                  Operator: 'vodafone',
                  Sequence: typed.length + 1,
                  ClientState: '',
                  Platform: 'USSD',
                },
        }),
        (_s, _h, body) =>
          fromJson(body, (r) => {
            const t = text(r.Message, 'Message');
            if (typeof t !== 'string') return t;
            if (r.Type !== 'Response' && r.Type !== 'Release') return { ok: false, problem: `unknown reply Type ${JSON.stringify(r.Type)}` };
            return { ok: true, continues: r.Type === 'Response', text: t };
          }),
      );
    case 'emergent':
      return session(
        (typed) => ({
          method: 'POST',
          path: '/ussd/emergent',
          json: {
            SessionId: o.sessionId,
            Mobile: msisdn,
            USERID: 'dial',
            Type: typed.length === 0 ? 'Initiation' : 'Response',
            Message: typed.length === 0 ? dialString(o) : last(typed),
            Operator: 'vodafone',
            ServiceCode: bare(o.serviceCode),
          },
        }),
        (_s, _h, body) =>
          fromJson(body, (r) => {
            const t = text(r.Message, 'Message');
            if (typeof t !== 'string') return t;
            return { ok: true, continues: r.Type === 'Response', text: t };
          }),
      );
    case 'arkesel':
      return session(
        (typed) => ({
          method: 'POST',
          path: '/ussd/arkesel',
          json: {
            sessionID: o.sessionId,
            userID: 'dial',
            newSession: typed.length === 0,
            msisdn,
            userData: typed.length === 0 ? dialString(o) : last(typed),
            network: 'MTN',
          },
        }),
        (_s, _h, body) =>
          fromJson(body, (r) => {
            const t = text(r.message, 'message');
            if (typeof t !== 'string') return t;
            if (typeof r.continueSession !== 'boolean') return { ok: false, problem: 'the reply has no boolean continueSession' };
            return { ok: true, continues: r.continueSession, text: t };
          }),
      );
    case 'nalo':
      return session(
        (typed) => ({
          method: 'POST',
          path: '/ussd/nalo',
          json: {
            USERID: 'dial',
            MSISDN: msisdn,
            USERDATA: typed.length === 0 ? dialString(o) : last(typed),
            MSGTYPE: typed.length === 0,
            NETWORK: 'MTN',
            SESSIONID: o.sessionId,
          },
        }),
        (_s, _h, body) =>
          fromJson(body, (r) => {
            const t = text(r.MSG, 'MSG');
            if (typeof t !== 'string') return t;
            if (typeof r.MSGTYPE !== 'boolean') return { ok: false, problem: 'the reply has no boolean MSGTYPE' };
            return { ok: true, continues: r.MSGTYPE, text: t };
          }),
      );
    case 'beem':
      // Beem sends no dial string: a deep link's answers go as the first answer ("1*2").
      return session(
        (typed) => ({
          method: 'POST',
          path: '/ussd/beem',
          json:
            typed.length === 0
              ? { command: 'initiate', msisdn, session_id: o.sessionId, operator: 'vodacom', payload: { request_id: 0, response: 0 } }
              : { command: 'continue', msisdn, session_id: o.sessionId, operator: 'vodacom', payload: { request_id: beemRequestId, response: last(typed) } },
        }),
        (_s, _h, body) =>
          fromJson(body, (r) => {
            const p = r.payload as Record<string, unknown> | undefined;
            const t = text(p?.request, 'payload.request');
            if (typeof t !== 'string') return t;
            if (typeof p?.request_id === 'number') beemRequestId = p.request_id;
            return { ok: true, continues: r.command === 'continue', text: t };
          }),
        o.deepLink.length ? [o.deepLink.join('*')] : [],
      );
    case 'airtel':
      return session(
        (typed) => ({
          method: 'GET',
          path: '/ussd/airtel',
          query: { SessionID: o.sessionId, MSISDN: msisdn, MSC: 'dial', input: typed.length === 0 ? bare(dialString(o)) : last(typed) },
        }),
        (_s, headers, body) => {
          const ff = headers.get('freeflow');
          if (ff !== 'FC' && ff !== 'FB') return { ok: false, problem: `the reply has no Freeflow header FC/FB (got ${JSON.stringify(ff)})` };
          return { ok: true, continues: ff === 'FC', text: body };
        },
      );
    case 'infobip':
      return session(
        (typed) => ({
          method: 'POST',
          path: `/ussd/infobip/${encodeURIComponent(o.sessionId)}/${typed.length === 0 ? 'start' : 'response'}`,
          json: { msisdn, text: typed.length === 0 ? dialString(o) : last(typed), shortCode: o.serviceCode },
        }),
        (_s, _h, body) =>
          fromJson(body, (r) => {
            const t = text(r.ussdMenu, 'ussdMenu');
            if (typeof t !== 'string') return t;
            if (typeof r.shouldClose !== 'boolean') return { ok: false, problem: 'the reply has no boolean shouldClose' };
            return { ok: true, continues: !r.shouldClose, text: t };
          }),
      );
  }
}
