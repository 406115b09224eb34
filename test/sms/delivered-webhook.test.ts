// The gateway's `sms.delivered` webhook feeds bulk delivery counts (the documented way; our own
// delivery-report route stays as a fallback), and its IPNs never land in the unknown list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { api } from '../support/api.js';
import { waitFor } from '../support/wait.js';

const svc = await startTestService({ SANDBOX_WEBHOOK_EVENTS: 'sms.delivered' });
after(() => svc.close());

test("sms.delivered events count a bulk batch's recipients as delivered", async () => {
  const r = await api(svc.url, 'POST', '/api/sms/bulk', { message: `Delivered ${Date.now()}`, recipients: ['0715000001', '0715000002', '0715000003'] });
  assert.equal(r.status, 202);
  const s = await waitFor(
    async () => {
      const st = await api(svc.url, 'GET', `/api/sms/bulk/${r.json.id}`);
      return st.json.totals?.delivered === 3 ? st.json : undefined;
    },
    { what: 'delivered counted', timeoutMs: 10_000, everyMs: 100 },
  );
  assert.equal(s.totals.undelivered, 0);
  const unknown = await api(svc.url, 'GET', '/api/ipns/unknown');
  assert.deepEqual(unknown.json.ipns, []);
});
