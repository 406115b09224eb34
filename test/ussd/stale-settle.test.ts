// Two instances share a session. The instance that answered last keeps the record it wrote and
// starts the next hop from it (src/ussd/cached-session-store.ts); when another instance has
// moved the session since, that first pass is thrown away and the hop steps again from Redis.
// The thrown-away pass must leave nothing behind: here it reached an END ("Done") without an
// action, while the real pass runs an action that commits and misses the deadline. The reply
// promises an SMS; the SMS must carry the action's real outcome, never the discarded "Done".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestService } from '../support/service.js';
import { sandboxSms } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const prefix = `t${randomUUID().slice(0, 8)}:`;
const env = { REDIS_PREFIX: prefix, MENUS_DIR: 'test/fixtures/menus/good', USSD_DEADLINE_MS: '1000' };
const a = await startTestService(env, { workers: false });
const b = await startTestService(env, { workers: false });
after(async () => {
  await a.close();
  await b.close();
});

const PHONE = '254712000931';
async function hubtel(url: string, sid: string, type: string, message: string, seq: number): Promise<{ Type: string; Message: string }> {
  const r = await fetch(new URL('/ussd/hubtel', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Type: type, Mobile: PHONE, SessionId: sid, ServiceCode: '860*31', Message: message, Sequence: seq }),
  });
  assert.equal(r.status, 200);
  return (await r.json()) as { Type: string; Message: string };
}

test("a hop that first stepped from a stale cached record and then ran a late action: the SMS says the action's outcome", async () => {
  for (const svc of [a, b]) {
    svc.app.actions.register('test_slow', async () => {
      await new Promise((r) => setTimeout(r, 1500)); // past USSD_DEADLINE_MS, after committing
      return { outcome: 'failure', reason: { en: 'Card declined.', sw: 'Kadi imekataliwa.' } };
    });
  }
  const sid = `stale-${randomUUID().slice(0, 8)}`;
  assert.match((await hubtel(a.url, sid, 'Initiation', '*860*31#', 1)).Message, /Duka/);
  assert.match((await hubtel(a.url, sid, 'Response', '2', 2)).Message, /Pick a fruit/); // A keeps "fruits"
  assert.match((await hubtel(b.url, sid, 'Response', '00', 3)).Message, /Duka/); // B moves the session home
  // At A: from its kept "fruits", "1" would be Apple → "Done" (no action); from home it is the slow action.
  const r = await hubtel(a.url, sid, 'Response', '1', 4);
  assert.equal(r.Message, 'We are processing your request. You will receive an SMS.');
  const sms = await waitFor(async () => (await sandboxSms(a.url)).find((m) => m.recipients.some((p) => p.endsWith(PHONE))), {
    timeoutMs: 5000,
    what: 'the promised SMS',
  });
  assert.match(sms.message, /Failed\. Card declined\./);
  assert.doesNotMatch(sms.message, /Done/);
});
