// A phone as Africa's Talking drives it: form-encoded POSTs with cumulative `text`.
import { randomUUID } from 'node:crypto';

export const CODE = '*860*30#';

export interface PostOpts {
  sessionId: string;
  phoneNumber?: string;
  serviceCode?: string;
  text?: string;
  networkCode?: string;
}

export async function post(url: string, o: PostOpts, path = '/ussd'): Promise<{ status: number; body: string; type: string }> {
  const form = new URLSearchParams({
    sessionId: o.sessionId,
    serviceCode: o.serviceCode ?? CODE,
    phoneNumber: o.phoneNumber ?? '+254712345678',
    networkCode: o.networkCode ?? '63902',
    text: o.text ?? '',
  });
  const res = await fetch(`${url}${path}`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** One subscriber session: dial(), then send() each answer; keeps the cumulative text. */
export class Phone {
  text = '';
  started = false;
  constructor(
    readonly url: string,
    readonly phoneNumber = '+254712345678',
    readonly serviceCode = CODE,
    readonly sessionId = `ATUid_${randomUUID()}`,
  ) {}

  async dial(text = ''): Promise<string> {
    this.started = true;
    this.text = text;
    return this.req();
  }

  async send(input: string): Promise<string> {
    if (!this.started) throw new Error('dial first');
    this.text = this.text === '' && !this.sentFirst ? input : `${this.text}*${input}`;
    this.sentFirst = true;
    return this.req();
  }

  private sentFirst = false;

  async req(): Promise<string> {
    const r = await post(this.url, { sessionId: this.sessionId, phoneNumber: this.phoneNumber, serviceCode: this.serviceCode, text: this.text });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
    return r.body;
  }

  /** Sends answers in order and returns the last screen. */
  async walk(...inputs: string[]): Promise<string> {
    let last = '';
    for (const i of inputs) last = await this.send(i);
    return last;
  }
}
