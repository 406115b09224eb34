// POST /ussd reads its body with a strict, size-limited reader (form or JSON); anything unusual
// (compressed, another charset) goes through the general parser with the same limits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { startTestService } from '../support/service.js';

const SHOP = '*860*31#';
const svc = await startTestService({ MENUS_DIR: 'test/fixtures/menus/good' }, { workers: false });
after(() => svc.close());

function send(body: string | Buffer, headers: Record<string, string>, chunked = false): Promise<{ status: number; body: string }> {
  const u = new URL(`${svc.url}/ussd`);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (chunked) {
      // No content-length: the limit must hold while reading.
      const b = Buffer.from(body);
      for (let i = 0; i < b.length; i += 4096) req.write(b.subarray(i, i + 4096));
      req.end();
    } else req.end(body);
  });
}

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const FORM = 'application/x-www-form-urlencoded';

test('form with a charset, and JSON, are read by the strict reader', async () => {
  const a = await send(form({ sessionId: `S${randomUUID()}`, serviceCode: SHOP, phoneNumber: '0712000901', text: '' }), {
    'content-type': `${FORM}; charset=UTF-8`,
  });
  assert.equal(a.status, 200);
  assert.match(a.body, /^CON /);
  const j = await send(JSON.stringify({ sessionId: `S${randomUUID()}`, serviceCode: SHOP, phoneNumber: '0712000902', text: '' }), {
    'content-type': 'application/json',
  });
  assert.equal(j.status, 200);
  assert.match(j.body, /^CON /);
});

test('oversized without content-length, invalid JSON, JSON that is not an object, repeated field → 400', async () => {
  const big = await send(
    form({ sessionId: 'b1', serviceCode: SHOP, phoneNumber: '0712000903', text: 'x'.repeat(20_000) }),
    { 'content-type': FORM, 'transfer-encoding': 'chunked' },
    true,
  );
  assert.equal(big.status, 400);
  assert.equal(big.body, 'request body too large');
  const bad = await send('{"sessionId":', { 'content-type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body, 'unreadable body');
  const scalar = await send('"S1"', { 'content-type': 'application/json' });
  assert.equal(scalar.status, 400);
  const twice = await send('sessionId=a&sessionId=b&phoneNumber=0712000904&serviceCode=*860*31%23', { 'content-type': FORM });
  assert.equal(twice.status, 400);
  assert.match(twice.body, /missing sessionId/);
});

test('a gzip-compressed form still works (general parser), and an oversized one is refused', async () => {
  const ok = await send(gzipSync(form({ sessionId: `S${randomUUID()}`, serviceCode: SHOP, phoneNumber: '0712000905', text: '' })), {
    'content-type': FORM,
    'content-encoding': 'gzip',
  });
  assert.equal(ok.status, 200);
  assert.match(ok.body, /^CON /);
  const big = await send(gzipSync(form({ sessionId: 'b2', serviceCode: SHOP, phoneNumber: '0712000906', text: 'x'.repeat(40_000) })), {
    'content-type': FORM,
    'content-encoding': 'gzip',
  });
  assert.equal(big.status, 400);
  assert.equal(big.body, 'request body too large');
});
