// GATEWAY=pag in the real service: the embedded sandbox at /sandbox/pag, the callback route
// /callbacks/pag verifying the body's signature with parseCallback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../../support/service.js';
import { signBody } from '../../../src/gateway/pag/signature.js';
import type { PagGateway } from '../../../src/gateway/pag/client.js';
import { uid } from './support.js';
import { waitFor } from '../../support/wait.js';

// A menu of what this gateway can do on its own (the default menu sells airtime and bills).
const svc = await startTestService({ GATEWAY: 'pag', MENUS_DIR: 'test/fixtures/menus/pag-merchant', SANDBOX_CHECKOUT_DELAY_MS: '100' }, { workers: false });
after(() => svc.close());
const gw = svc.app.gateway as PagGateway;

test('the service runs the PAG adapter against its embedded sandbox; checkouts complete (provider 40)', async () => {
  assert.equal(gw.name, 'pag');
  const ref = uid('svc');
  const r = await gw.checkout({ phone: '0712345678', amountMinor: 4200, channel: 'MPESA' }, { reference: ref });
  assert.equal(r.kind, 'pending');
  const ledger = (await (await fetch(`${svc.url}/sandbox/_ledger`)).json()) as Array<{
    endpoint: string;
    reference?: string;
    body: { provider_id: number; callback_url: string; amount: string };
  }>;
  const entry = ledger.find((e) => e.reference === ref)!;
  assert.equal(entry.endpoint, 'pag/payment_c2b');
  assert.equal(entry.body.provider_id, 40);
  assert.equal(entry.body.amount, '42.00');
  assert.equal(entry.body.callback_url, `${svc.url}/callbacks/pag`);
  const u = await waitFor(
    async () => {
      const x = await gw.transactionStatus(ref);
      return x?.status === 'succeeded' ? x : null;
    },
    { what: 'checkout success' },
  );
  assert.equal(u.code, '2');
  // the cancelling customer of docs/sandbox.md
  const ref2 = uid('svc');
  await gw.checkout({ phone: '0700000001', amountMinor: 4200, channel: 'MPESA' }, { reference: ref2 });
  const c = await waitFor(
    async () => {
      const x = await gw.transactionStatus(ref2);
      return x?.status !== 'pending' ? x : null;
    },
    { what: 'cancel' },
  );
  assert.equal(c.status, 'cancelled');
  // both sandbox callbacks reached /callbacks/pag and passed parseCallback's signature check
  await waitFor(
    async () => {
      const m = await (await fetch(`${svc.url}/metrics`)).text();
      const line = m.split('\n').find((l) => l.startsWith('ipn_received_total') && l.includes('gateway="pag"') && l.includes('duplicate="false"'));
      return line && Number(line.split(' ').pop()) >= 2;
    },
    { what: 'two PAG callbacks recorded' },
  );
});

test('POST /callbacks/pag accepts a correctly signed callback and refuses a forged one', async () => {
  const cb = signBody({ transaction_id: '123', order_id: uid('cb'), status: 2, result: { code: 0, message: 'OK' } }, svc.app.config.GATEWAY_SECRET);
  const post = (b: unknown) => fetch(`${svc.url}/callbacks/pag`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
  const forged = await post({ ...cb, status: 3 });
  assert.equal(forged.status, 401);
  const ok = await post(cb);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: 'success' });
});

test('sandbox reset clears PAG orders too', async () => {
  const ref = uid('rst');
  await gw.checkout({ phone: '0712345678', amountMinor: 100, channel: 'MPESA' }, { reference: ref });
  assert.ok(await gw.transactionStatus(ref));
  const res = await fetch(`${svc.url}/sandbox/_reset`, { method: 'POST' });
  assert.equal(res.status, 200);
  assert.equal(await gw.transactionStatus(ref), null);
});
