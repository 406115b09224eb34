// The per-hop log line skips pino's path redaction for speed (src/ussd/module.ts): prove that a
// PIN typed on the default menu still never reaches any log line, hop lines included.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { Phone } from '../support/ussd.js';
import { captureLogger } from '../support/log.js';

const { logger, lines } = captureLogger('debug');
const svc = await startTestService({}, { logger, workers: false });
after(() => svc.close());

test('a PIN entered on the balance screen appears in no log line', async () => {
  const p = new Phone(svc.url, '+254712345601');
  await p.dial();
  await p.send('4'); // Check balance → PIN prompt
  const screen = await p.send('8642');
  assert.match(screen, /^(CON|END) /);
  const hops = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'ussd hop' && l.sessionId === p.sessionId);
  assert.equal(hops.length, 3, 'one hop line per request');
  assert.ok(!lines.some((l) => l.includes('8642')), 'the PIN leaked into the log');
});
