// Calls to the service's HTTP API with the test token (test/support/service.ts gives every test
// service this API_TOKEN).
import { waitFor } from './wait.js';

export const TOKEN = 'test-api-token-0123456789';

export interface ApiReply {
  status: number;
  json: any;
  headers: Headers;
}

/** One request with `Authorization: Bearer TOKEN`; an object body is sent as JSON, a string or FormData as is. */
export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers } };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof FormData) init.body = body;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** Polls a bulk campaign until its state is `done`; resolves with its status body. */
export function campaignDone(base: string, id: string, timeoutMs = 20000): Promise<any> {
  return waitFor(
    async () => {
      const s = await api(base, 'GET', `/api/sms/bulk/${id}`);
      return s.json.state === 'done' ? s.json : undefined;
    },
    { what: `bulk ${id} done`, timeoutMs, everyMs: 100 },
  );
}
