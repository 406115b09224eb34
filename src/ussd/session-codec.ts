// The Redis strings of a session record (session-store.ts is the only user): the engine works on
// typed values, and these are the only places they become, or come back from, strings.
import type { ReplyField, UssdReply } from '../channels/types.js';
import type { MenuContext } from '../menus/types.js';

/** Where a session stands: its screen and its menu context (as much of the xstate snapshot as a restore needs). */
export interface SessionState {
  v: string;
  c: MenuContext;
}

/** The phone's pointer to its dropped session (`sid`: that session's key), offered on its next dial. */
export interface ResumePointer {
  sid: string;
  version: string;
  state: SessionState;
}

// A stored reply: its first character says END (E), or continue and how the answer is typed
// (C free text or a choice, N digits, P phone, S secret), so a replay repeats it exactly.
const FIELD_CODE: Record<ReplyField, string> = { number: 'N', phone: 'P', secret: 'S' };
const CODE_FIELD: Record<string, ReplyField> = { N: 'number', P: 'phone', S: 'secret' };

export const encodeReply = (r: UssdReply): string => (r.continues ? (r.field ? FIELD_CODE[r.field] : 'C') : 'E') + r.text;

export function decodeReply(s: string): UssdReply {
  const field = CODE_FIELD[s[0]!];
  return field ? { continues: true, text: s.slice(1), field } : { continues: s[0] !== 'E', text: s.slice(1) };
}

/** Whether a stored reply ended the session. */
export const replyEnded = (s: string): boolean => s[0] === 'E';

export function encodeState(s: SessionState): string {
  const c = s.c;
  // Only what a restore needs: empty fields are left out to keep the record small.
  const small: Partial<MenuContext> = { v: c.v, h: c.h, lang: c.lang, ph: c.ph };
  if (c.i) small.i = c.i;
  if (c.pg) small.pg = c.pg;
  if (c.e) small.e = c.e;
  if (c.k) small.k = c.k;
  return JSON.stringify({ v: s.v, c: small });
}

/** The state a record holds; undefined when it cannot be read (the record then counts as expired). */
export function decodeState(s: string): SessionState | undefined {
  try {
    const o = JSON.parse(s) as { v: string; c: Partial<MenuContext> };
    const c = o.c;
    return {
      v: o.v,
      c: {
        v: c.v ?? {},
        h: c.h ?? [],
        pg: c.pg ?? 0,
        e: c.e ?? '',
        lang: typeof c.lang === 'string' && c.lang ? c.lang : 'en',
        ph: c.ph ?? '',
        ...(c.i ? { i: c.i } : {}),
        ...(c.k ? { k: c.k } : {}),
      },
    };
  } catch {
    return undefined;
  }
}

/** "<sid>\n<menu version>\n<state>"; `encoded` is the state's encoding when the caller has it already. */
export function encodeResume(p: ResumePointer, encoded?: string): string {
  return `${p.sid}\n${p.version}\n${encoded ?? encodeState(p.state)}`;
}

/** The pointer stored for a phone, or undefined: none, or unreadable. */
export function decodeResume(raw: string): ResumePointer | undefined {
  if (!raw) return undefined;
  const [sid, version, snapshot] = raw.split('\n', 3) as [string, string?, string?];
  if (version === undefined || !snapshot) return undefined;
  const state = decodeState(snapshot);
  return state ? { sid, version, state } : undefined;
}
