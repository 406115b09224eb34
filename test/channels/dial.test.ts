// `npm run dial -- --channel <name>` for every channel, run as a separate process against the
// real service: the terminal phone speaks each aggregator's wire format (scripts/lib/
// channel-wire.ts, written apart from src/channels/) and walks a session with a deep link to
// its END.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService } from '../support/service.js';
import { runDial } from '../tools/dial-helpers.js';
import { DIAL_CHANNELS } from '../../scripts/lib/channel-wire.js';

const svc = await startTestService({ RESUME_WINDOW_S: '0', USSD_REPEAT_WINDOW_MS: '0' }, { workers: false });
after(() => svc.close());

const screens = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) => l.slice(2, -2).trimEnd())
    .join('\n');

for (const [i, channel] of DIAL_CHANNELS.entries()) {
  test(`dial --channel ${channel}: deep link, answers, END`, async () => {
    // *860*30*1# opens "Buy airtime for"; then another number, an amount, and Cancel.
    const r = await runDial([
      '--url',
      svc.url,
      '--channel',
      channel,
      '--phone',
      `07120009${String(i).padStart(2, '0')}`,
      '--code',
      '*860*30*1#',
      '--input',
      '2*0733000111*100*2',
      '--pace',
      '0',
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const shown = screens(r.stdout);
    // Beem carries no dial string: its phone shows the main menu, then types the deep link's answers.
    assert.match(shown, channel === 'beem' ? /^Welcome to Kemru Pay[\s\S]*\nBuy airtime for:/ : /^Buy airtime for:/);
    assert.match(shown, /Enter phone number/);
    assert.match(shown, /Buy airtime KES 100 for\s+0733000111\?/);
    assert.match(shown, /Cancelled\. Thank you for using\s+Kemru Pay\./);
    assert.match(r.stdout, new RegExp(`\\(${channel}\\)`));
    assert.match(r.stdout, new RegExp(`END \\d+/${channel === 'nalo' ? 120 : 182}`));
  });
}

test('dial paces scripted answers on a channel without request numbers (else the service would take them for repeats)', async () => {
  const paced = await startTestService({ RESUME_WINDOW_S: '0', USSD_REPEAT_WINDOW_MS: '300' }, { workers: false });
  try {
    const r = await runDial(['--url', paced.url, '--channel', 'arkesel', '--phone', '0712000999', '--input', '1*2', '--pace', '400']);
    assert.equal(r.code, 1); // the answers run out on the phone prompt
    assert.match(screens(r.stdout), /Buy airtime for:[\s\S]*Enter phone number/);
    // Unpaced, the second answer arrives within the window and gets the first one's reply again.
    const fast = await runDial(['--url', paced.url, '--channel', 'arkesel', '--phone', '0712000998', '--input', '1*2', '--pace', '0']);
    assert.doesNotMatch(screens(fast.stdout), /Enter phone number/);
  } finally {
    await paced.close();
  }
});
