// Code comments cite docs/gateways.md by section heading; every cited section must exist, and
// every wire choice the client and sandbox share must appear in its "Wire choices" table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const doc = readFileSync('docs/gateways.md', 'utf8');
const headings = new Set([...doc.matchAll(/^#{1,4} (.+)$/gm)].map((m) => m[1]!.trim()));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every docs/gateways.md section cited in src/ and test/ exists', () => {
  const missing: string[] = [];
  for (const f of [...files('src'), ...files('test')].filter((x) => !x.endsWith('gateways-doc.unit.test.ts'))) {
    const text = readFileSync(f, 'utf8');
    // forms in use: the file name, an optional comma or colon, then one or more quoted headings
    for (const m of text.matchAll(/docs\/gateways\.md[,:]?\s*((?:"[^"\n]+"(?:,\s*| and | or )?)+)/g)) {
      for (const h of m[1]!.matchAll(/"([^"\n]+)"/g)) if (!headings.has(h[1]!)) missing.push(`${f}: "${h[1]}"`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the wire choices table names each shared choice', () => {
  const table = doc.slice(doc.indexOf('## Wire choices'), doc.indexOf('## Payment API Gateway 5.7.3'));
  for (const needle of [
    'GATEWAY_PHONE_FORMAT',
    '/billing/v1/sms/send',
    '`message`',
    '`initiatorCountry`',
    'UPI signature',
    'telco check signature',
    'verify',
    '/billing/v1/transaction-status',
    '`metadata.reference`',
    'B2B `identifier`',
    '`offline_mode`',
    'X-Kemru-Technologies-Signature',
  ]) {
    assert.ok(table.includes(needle), `Wire choices lacks ${needle}`);
  }
});
