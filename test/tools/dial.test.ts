// `npm run dial`, run as a separate process the way a developer runs it: first against a
// recording stand-in (to pin the Africa's Talking wire format exactly), then against the real
// service (startTestService: real Redis, real menu).
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startTestService } from '../support/service.js';
import { freePort } from '../../scripts/lib/private-redis.mjs';
import { waitFor } from '../support/wait.js';
import { collect, fakeService, runDial, spawnDial, ROOT } from './dial-helpers.js';

/** Lines of the handset frames only (between ┌ and ┘), without the border characters. */
function screenLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) => l.slice(2, -2).trimEnd());
}

describe('against a recording stand-in', () => {
  test("posts the Africa's Talking form with cumulative text and one sessionId until END", async () => {
    const svc = await fakeService((f) => (f.text === '1**5*6' ? [200, 'END Bye'] : [200, `CON You sent "${f.text}"\n1 More`]));
    after(() => svc.close());
    // An empty answer and an answer containing "*" are inputs too: sent exactly as typed.
    const r = await runDial(['--url', svc.url, '--phone', '0712345678'], '1\n\n5*6\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      svc.requests.map((q) => q.form.text),
      ['', '1', '1*', '1**5*6'],
    );
    const ids = new Set(svc.requests.map((q) => q.form.sessionId));
    assert.equal(ids.size, 1);
    assert.match([...ids][0]!, /^ATUid_/);
    for (const q of svc.requests) {
      assert.equal(q.path, '/ussd');
      assert.equal(q.contentType, 'application/x-www-form-urlencoded');
      assert.equal(q.form.serviceCode, '*860*30#');
      assert.equal(q.form.phoneNumber, '+254712345678'); // AT sends E.164
      assert.equal(q.form.networkCode, '63902');
    }
    // CON/END prefixes are stripped from the display and shown in the footer instead.
    assert.deepEqual(screenLines(r.stdout).slice(0, 2), ['You sent ""', '1 More']);
    assert.ok(!screenLines(r.stdout).some((l) => /^(CON|END) /.test(l)));
    assert.match(r.stdout, /END 3\/182/);
  });

  test('a new run is a new session; --code into a sub-menu pre-fills the text', async () => {
    const svc = await fakeService(() => [200, 'END ok']);
    after(() => svc.close());
    const a = await runDial(['--url', svc.url, '--code', '*860*30*1*2#', '--input', '', '--network', '63903']);
    const b = await runDial(['--url', svc.url, '--input', '']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const [qa, qb] = svc.requests;
    assert.equal(qa!.form.serviceCode, '*860*30#');
    assert.equal(qa!.form.text, '1*2');
    assert.equal(qa!.form.networkCode, '63903');
    assert.equal(qa!.path, '/ussd');
    assert.equal(qb!.path, '/ussd');
    assert.notEqual(qa!.form.sessionId, qb!.form.sessionId);
  });

  test("--channel speaks that aggregator's wire format at its route (Hubtel: JSON, the dial string on Initiation)", async () => {
    const svc = await fakeService(() => [200, '{"SessionId":"x","Type":"Release","Message":"ok"}']);
    after(() => svc.close());
    const r = await runDial(['--url', svc.url, '--code', '*860*30*1*2#', '--input', '', '--channel', 'hubtel']);
    assert.equal(r.code, 0, r.stderr);
    const [q] = svc.requests;
    assert.equal(q!.path, '/ussd/hubtel');
    assert.equal(q!.contentType, 'application/json');
    const sent = JSON.parse(q!.body) as Record<string, unknown>;
    assert.equal(sent.Type, 'Initiation');
    assert.equal(sent.Message, '*860*30*1*2#');
    assert.equal(sent.ServiceCode, '860*30');
    assert.equal(sent.Mobile, '254712345678'); // Hubtel sends the MSISDN without "+"
    assert.equal(sent.Sequence, 1);
    assert.match(r.stdout, /END 2\/182/);
    const bad = await runDial(['--url', svc.url, '--input', '', '--channel', 'nosuch']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--channel must be one of africastalking, hubtel/);
  });

  test('wraps a long screen to the display width and flags one over the screen limit', async () => {
    const long = 'Twenty characters ok '.repeat(10).trim(); // 209 characters
    const svc = await fakeService(() => [200, `END ${long}`]);
    after(() => svc.close());
    const r = await runDial(['--url', svc.url, '--width', '20', '--input', '']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => /^[┌│└]/.test(l));
    for (const l of lines) assert.equal([...l].length, 24, `frame line "${l}"`);
    assert.equal(screenLines(r.stdout).join(' ').replace(/\s+/g, ' '), long);
    assert.match(r.stdout, /END 209\/182 TOO LONG/);
  });

  test('an HTTP error shows the status and body and exits 1', async () => {
    const svc = await fakeService(() => [502, 'upstream exploded']);
    after(() => svc.close());
    const r = await runDial(['--url', svc.url, '--input', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTP 502 Bad Gateway/);
    assert.match(r.stderr, /upstream exploded/);
  });

  test('a reply that is neither CON nor END is reported, exit 1', async () => {
    const svc = await fakeService(() => [200, 'Welcome (no prefix)']);
    after(() => svc.close());
    const r = await runDial(['--url', svc.url, '--input', '']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not start with "CON " or "END "/);
    assert.match(r.stderr, /Welcome \(no prefix\)/);
  });

  test('scripted answers running out before END hang up with exit 1', async () => {
    const svc = await fakeService(() => [200, 'CON again?']);
    after(() => svc.close());
    const r = await runDial(['--url', svc.url, '--input', '1*2']);
    assert.equal(r.code, 1);
    assert.equal(svc.requests.length, 3);
    assert.match(r.stderr, /no more answers/);
  });
});

test('an unreachable service gives a clear message and exit 1', async () => {
  const port = await freePort(); // nothing listens there
  const r = await runDial(['--url', `http://127.0.0.1:${port}`, '--input', '']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the USSD service at http:\/\/127\.0\.0\.1:\d+\/ussd \(ECONNREFUSED\)/);
  assert.match(r.stderr, /npm start/);
});

test('a bad option exits 2 with the usage', async () => {
  const r = await runDial(['--width', 'wide']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--width must be an integer/);
  assert.match(r.stderr, /usage: npm run dial/);
});

describe('against the real service', async () => {
  const svc = await startTestService({}, { workers: false });
  after(() => svc.close());

  test('walks Buy airtime for another number to Cancel from piped answers (exit 0 on END)', async () => {
    const r = await runDial(['--url', svc.url, '--phone', '0712000001'], '1\n2\n0733000002\n100\n2\n');
    assert.equal(r.code, 0, r.stderr);
    const shown = screenLines(r.stdout).join('\n');
    assert.match(shown, /Welcome to Kemru Pay/);
    assert.match(shown, /Enter phone number/);
    assert.match(shown, /Buy airtime KES 100 for/);
    assert.match(shown, /Cancelled/);
    assert.equal((r.stdout.match(/┌/g) ?? []).length, 6); // six screens: main + 5 answers
    assert.match(r.stdout, /└─+ END \d+\/182 \d+ms ─+┘\n$/);
  });

  test('--input picks Kiswahili and the next dial greets in Kiswahili', async () => {
    const a = await runDial(['--url', svc.url, '--phone', '0712000003', '--input', '6*1*2']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(screenLines(a.stdout).join('\n'), /Lugha imewekwa/);
    const b = await runDial(['--url', svc.url, '--phone', '0712000003', '--input', '2']);
    assert.equal(b.code, 1); // the scripted answers run out on a CON screen
    assert.match(screenLines(b.stdout)[0]!, /Karibu/);
  });

  test("the service's 400 for a bad phone number is shown with its body", async () => {
    const r = await runDial(['--url', svc.url, '--phone', 'not-a-phone', '--input', '']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTP 400 Bad Request/);
    assert.match(r.stderr, /phoneNumber/);
  });

  test('Ctrl-C while waiting for an answer hangs up with exit 130', async () => {
    const child = spawnDial(['--url', svc.url, '--phone', '0712000004']);
    const done = collect(child);
    let shown = '';
    child.stdout!.on('data', (d: string) => (shown += d));
    // stdin stays open: dial shows the first screen and waits for an answer.
    await waitFor(() => shown.includes('┘'), 15_000);
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130);
    assert.match(r.stdout, /Hung up/);
  });

  test('interactive on a terminal: prompts, then offers to dial again', async () => {
    // `script` gives dial a real pseudo-terminal, so readline prompts as it does for a person.
    const cmd = `${JSON.stringify(process.execPath)} --import tsx scripts/dial.ts --url ${svc.url} --phone 0712000005`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let prompts = 0;
    const answers = ['1', '1', '50', '2'];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // Answer each "> " prompt once it appears, then decline to dial again.
      const seenPrompts = out.split('> ').length - 1;
      while (prompts < seenPrompts && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
      if (out.includes('Dial again? [Y/n]') && prompts === answers.length) {
        prompts++;
        child.stdin.write('n\r');
      }
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`interactive dial did not finish:\n${out}`));
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    assert.equal(code, 0, out);
    assert.match(out, /type an answer and press Enter/);
    assert.match(out, /Enter amount/);
    assert.match(out, /Cancelled/);
    assert.match(out, /Dial again\? \[Y\/n\]/);
  });
});
