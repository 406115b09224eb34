// `npm run dial`: a terminal phone. Dials the running service as an aggregator would (Africa's
// Talking unless --channel names another; each speaks its own wire format) and shows each
// screen as a handset does. Interactive on a terminal; scripted with --input "1*1*100*1" or one
// answer per line on piped stdin (exit 0 when the session ENDs).
import { parseArgs } from 'node:util';
import { createInterface, type Interface } from 'node:readline';
import { clientSession, DIAL_CHANNELS, type DialChannel } from './lib/channel-wire.js';
import { drawScreen } from './lib/handset.js';
import { aggregatorPhone, exchange, newSessionId, routeOf, splitDialled, type DialTarget } from './lib/ussd-client.js';

const USAGE = `usage: npm run dial -- [options]

  --phone <number>     subscriber's phone (default 0712345678; sent as +254… to Africa's Talking,
                       254… to the others)
  --code <dialled>     what the subscriber dials (default *860*30#); *860*30*1# dials straight
                       into a sub-menu (a deep link, sent the way the channel sends one)
  --service-code <c>   the registered code a longer --code is split against (default
                       $USSD_SERVICE_CODE or *860*30#)
  --url <base>         service base URL (default $USSD_URL or http://127.0.0.1:$PORT, PORT 3000)
  --network <code>     networkCode (default 63902, Safaricom)
  --channel <name>     the aggregator to speak as: africastalking (POST /ussd), hubtel, arkesel,
                       nalo, beem, emergent, safaricom, airtel, infobip (at /ussd/<name>)
  --input <a*b*c>      scripted answers joined by "*" (no prompts; exit 0 on END)
  --width <cols>       display width (default 32)
  --max-chars <n>      screen limit shown in the footer (default 182; 120 for nalo)
  --timeout <ms>       give up on a reply after this long (default 10000)
  --pace <ms>          wait this long before each scripted answer (default 1100 on channels that
                       do not number their requests: arkesel, nalo, emergent, airtel, infobip;
                       else 0). The service takes an answer arriving within USSD_REPEAT_WINDOW_MS
                       of its previous reply on those channels for a repeat, as no person can
                       answer that fast

Piped stdin (not a terminal) is read as one answer per line, like --input.
Exit codes: 0 session ended (END) or you quit, 1 service unreachable, HTTP or protocol error,
or the scripted answers ran out before END, 2 bad option, 130 Ctrl-C.`;

type SessionResult = 'end' | 'error' | 'no_answers';

/** Channels whose requests carry no number: a scripted answer must come at a person's pace (see --pace). */
const UNNUMBERED = new Set<string>(['arkesel', 'nalo', 'emergent', 'airtel', 'infobip']);

/** Where answers come from: a person at a prompt, or a script. */
interface AnswerSource {
  interactive: boolean;
  /** null: no more answers (script exhausted, or the person closed the terminal input). */
  next(): Promise<string | null>;
}

function usageError(msg: string): never {
  process.stderr.write(`dial: ${msg}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        phone: { type: 'string', default: '0712345678' },
        code: { type: 'string', default: '*860*30#' },
        'service-code': { type: 'string', default: process.env.USSD_SERVICE_CODE || '*860*30#' },
        url: { type: 'string', default: process.env.USSD_URL || `http://127.0.0.1:${process.env.PORT || 3000}` },
        network: { type: 'string', default: '63902' },
        channel: { type: 'string', default: 'africastalking' },
        input: { type: 'string' },
        width: { type: 'string', default: '32' },
        'max-chars': { type: 'string' },
        timeout: { type: 'string', default: '10000' },
        pace: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    usageError((err as Error).message);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) usageError(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  try {
    const u = new URL(parsed.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    usageError(`--url must be an http(s) URL, got "${parsed.url}"`);
  }
  if (!/^\*[0-9*]*#$/.test(parsed.code)) usageError(`--code must look like *860*30#, got "${parsed.code}"`);
  const channel = (parsed.channel === 'at' ? 'africastalking' : parsed.channel) as DialChannel;
  if (!DIAL_CHANNELS.includes(channel)) usageError(`--channel must be one of ${DIAL_CHANNELS.join(', ')}`);
  return {
    ...parsed,
    channel,
    width: int('width', parsed.width, 16, 120),
    maxChars: int('max-chars', parsed['max-chars'] ?? (channel === 'nalo' ? '120' : '182'), 1, 10000),
    timeoutMs: int('timeout', parsed.timeout, 100, 600000),
    paceMs: int('pace', parsed.pace ?? (UNNUMBERED.has(channel) ? '1100' : '0'), 0, 600000),
  };
}

function scriptedAnswers(answers: string[]): AnswerSource {
  let i = 0;
  return { interactive: false, next: async () => (i < answers.length ? answers[i++]! : null) };
}

function stdinLines(): AnswerSource {
  const rl = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
  const it = rl[Symbol.asyncIterator]();
  return {
    interactive: false,
    async next() {
      const r = await it.next();
      return r.done ? null : r.value;
    },
  };
}

/** Prompts on the terminal; resolves null when the input is closed (Ctrl-D). */
function prompter(rl: Interface): AnswerSource & { ask(q: string): Promise<string | null> } {
  let closed = false;
  rl.on('close', () => {
    closed = true;
  });
  const ask = (q: string) =>
    new Promise<string | null>((resolve) => {
      if (closed) return resolve(null);
      const onClose = () => resolve(null);
      rl.once('close', onClose);
      rl.question(q, (answer) => {
        rl.off('close', onClose);
        resolve(answer);
      });
    });
  return { interactive: true, ask, next: () => ask('> ') };
}

async function runSession(
  target: DialTarget,
  dialled: string[],
  answers: AnswerSource,
  view: { width: number; maxChars: number; paceMs: number },
  signal: AbortSignal,
): Promise<SessionResult> {
  const sessionId = newSessionId(target.channel);
  const out = process.stdout;
  out.write(
    `Dialling ${target.serviceCode}${dialled.length ? ` with "${dialled.join('*')}"` : ''} from ${target.phoneNumber} (network ${target.networkCode})\n`,
  );
  out.write(`  ${routeOf(target)} (${target.channel})  session ${sessionId}\n`);
  if (answers.interactive) out.write('  type an answer and press Enter; Ctrl-C hangs up\n');
  const wire = clientSession(target.channel as DialChannel, {
    sessionId,
    phone: target.phoneNumber,
    serviceCode: target.serviceCode,
    deepLink: dialled,
    networkCode: target.networkCode,
  });
  const auto = [...wire.preTyped];
  const typed: string[] = [];
  for (;;) {
    const hop = await exchange(target, wire, typed, signal);
    switch (hop.kind) {
      case 'unreachable':
        process.stderr.write(
          `dial: cannot reach the USSD service at ${routeOf(target)} (${hop.reason}).\n` +
            '      Is it running? `npm start` serves it on port 3000; use --url for another address.\n',
        );
        process.exit(1);
      case 'timeout':
        process.stderr.write(`dial: no reply within ${hop.ms} ms; Africa's Talking drops a session after about 5 s.\n`);
        return 'error';
      case 'http_error':
        process.stderr.write(`dial: HTTP ${hop.status} ${hop.statusText} after ${hop.ms} ms\n${indent(hop.body || '(empty body)')}\n`);
        return 'error';
      case 'bad_reply':
        process.stderr.write(`dial: ${hop.problem}:\n${indent(hop.body || '(empty body)')}\n`);
        return 'error';
      case 'screen':
        out.write(`${drawScreen({ text: hop.text, continues: hop.continues, ms: hop.ms, ...view })}\n`);
        if (!hop.continues) return 'end';
    }
    // A deep link the channel cannot carry in its start is typed for the subscriber first.
    const pre = auto.shift();
    const answer = pre ?? (await answers.next());
    if (answer === null) {
      if (!answers.interactive) process.stderr.write('dial: no more answers, but the screen is still waiting (CON); hanging up.\n');
      return 'no_answers';
    }
    if (!answers.interactive || pre !== undefined) {
      if (view.paceMs > 0) await new Promise((r) => setTimeout(r, view.paceMs));
      out.write(`> ${answer}\n`);
    }
    typed.push(answer);
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions();
  const { serviceCode, answers: dialled } = splitDialled(o.code, o['service-code']);
  const target: DialTarget = {
    url: o.url,
    channel: o.channel,
    serviceCode,
    phoneNumber: aggregatorPhone(o.phone),
    networkCode: o.network,
    timeoutMs: o.timeoutMs,
  };
  const view = { width: o.width, maxChars: o.maxChars, paceMs: o.paceMs };
  const abort = new AbortController();
  const hangUp = () => {
    abort.abort();
    process.stdout.write('\nHung up.\n');
    process.exit(130);
  };
  process.on('SIGINT', hangUp);

  if (o.input !== undefined || !process.stdin.isTTY) {
    const source = o.input !== undefined ? scriptedAnswers(o.input === '' ? [] : o.input.split('*')) : stdinLines();
    const result = await runSession(target, dialled, source, view, abort.signal);
    process.exit(result === 'end' ? 0 : 1);
  }

  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // On a terminal, Ctrl-C reaches readline as a keypress, not as a process signal.
  rl.on('SIGINT', hangUp);
  const person = prompter(rl);
  for (;;) {
    const result = await runSession(target, dialled, person, view, abort.signal);
    if (result === 'no_answers') break; // Ctrl-D at the prompt
    const again = await person.ask('Dial again? [Y/n] ');
    if (again === null || /^\s*(n|no|q|quit|exit)\s*$/i.test(again)) break;
    process.stdout.write('\n');
  }
  rl.close();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`dial: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
