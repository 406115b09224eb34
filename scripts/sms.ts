// Operator CLI for the SMS API of a running service.
//   npm run sms -- bulk --file numbers.csv --message "…" [--url http://127.0.0.1:3000] [--no-wait]
//   npm run sms -- status <bulkId>
//   npm run sms -- otp 0712345678 [--purpose login]
//   npm run sms -- verify 0712345678 123456 [--purpose login]
// Token: API_TOKEN from the environment. Progress goes to stderr, the summary to stdout.
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    file: { type: 'string', short: 'f' },
    message: { type: 'string', short: 'm' },
    url: { type: 'string', default: process.env.SMS_API_URL ?? 'http://127.0.0.1:3000' },
    purpose: { type: 'string', default: 'login' },
    'no-wait': { type: 'boolean', default: false },
    interval: { type: 'string', default: '500' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const USAGE = `usage:
  npm run sms -- bulk --file numbers.csv --message "text" [--url URL] [--no-wait]
  npm run sms -- status <bulkId> [--url URL]
  npm run sms -- otp <phone> [--purpose login] [--url URL]
  npm run sms -- verify <phone> <code> [--purpose login] [--url URL]
env: API_TOKEN (bearer token of the service)`;

const base = values.url!.replace(/\/$/, '');
const token = process.env.API_TOKEN ?? '';

function die(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(1);
}

async function call(method: string, path: string, body?: RequestInit['body'], contentType?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (contentType) headers['content-type'] = contentType;
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body, duplex: 'half' } : {}) } as RequestInit);
  } catch (e) {
    die(`cannot reach ${base}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const dur = (s: number) => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};

function bar(fraction: number, width = 28): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

async function follow(id: string): Promise<any> {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let firstSent: number | undefined;
  let lastLine = 0;
  for (;;) {
    const r = await call('GET', `/api/sms/bulk/${id}`);
    if (r.status !== 200) die(`status ${r.status}: ${JSON.stringify(r.json)}`);
    const s = r.json;
    const t = s.totals;
    const finished = t.batchesSent + t.batchesFailed;
    const secs = (Date.now() - started) / 1000;
    const from: number = (firstSent ??= t.recipientsSent);
    const rate = secs > 0 ? (t.recipientsSent - from) / secs : 0;
    const left = t.valid - t.recipientsSent - t.recipientsFailed;
    const eta = rate > 0 ? left / rate : Infinity;
    const line =
      `${bar(t.batches ? finished / t.batches : 1)} batches ${finished}/${t.batches}` +
      ` · recipients ${fmt(t.recipientsSent)}/${fmt(t.valid)} · ${fmt(rate)}/s · ETA ${s.state === 'done' ? '0:00' : dur(eta)}` +
      (t.batchesFailed ? ` · ${t.batchesFailed} failed` : '');
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (Date.now() - lastLine > 5000 || s.state === 'done') {
      process.stderr.write(`${line}\n`);
      lastLine = Date.now();
    }
    if (s.state === 'done' || s.state === 'aborted') {
      if (tty) process.stderr.write('\n');
      return { ...s, elapsedS: secs, rate };
    }
    await new Promise((res) => setTimeout(res, Number(values.interval) || 500));
  }
}

function summary(s: any) {
  const t = s.totals;
  const rows: Array<[string, string]> = [
    ['bulk id', s.id],
    ['state', s.state],
    ['encoding / parts', `${s.encoding} / ${s.parts}`],
    ['received', fmt(t.received)],
    ['valid', fmt(t.valid)],
    ['invalid', fmt(t.invalid)],
    ['duplicates', fmt(t.duplicates)],
    ['batches sent / failed / total', `${t.batchesSent} / ${t.batchesFailed} / ${t.batches}`],
    ['recipients sent', fmt(t.recipientsSent)],
    ['recipients failed', fmt(t.recipientsFailed)],
  ];
  if (s.elapsedS !== undefined) rows.push(['elapsed', `${s.elapsedS.toFixed(1)} s`], ['send rate', `${fmt(s.rate)} recipients/s`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  if (t.invalid > 0) process.stdout.write(`invalid numbers with reasons: GET ${base}${s.invalidUrl}\n`);
}

async function main() {
  const [cmd, ...args] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!token) die("set API_TOKEN (the service's bearer token)");
  if (cmd === 'bulk') {
    if (!values.file || !values.message) die(USAGE);
    let size: number;
    try {
      size = statSync(values.file).size;
    } catch (e) {
      die(`cannot read ${values.file}: ${(e as Error).message}`);
    }
    process.stderr.write(`uploading ${values.file} (${fmt(size / 1024)} KB)…\n`);
    const body = Readable.toWeb(createReadStream(values.file)) as unknown as RequestInit['body'];
    const r = await call('POST', `/api/sms/bulk?message=${encodeURIComponent(values.message)}`, body, 'text/csv');
    if (r.status !== 202) die(`upload refused (${r.status}): ${JSON.stringify(r.json)}`);
    const j = r.json;
    process.stderr.write(
      `${j.id}: ${fmt(j.received)} received, ${fmt(j.valid)} valid, ${fmt(j.invalid)} invalid, ${fmt(j.duplicates)} duplicates → ${j.batches} batches; ${j.encoding}, ${j.parts} part(s) each (${fmt(j.smsParts)} SMS parts)\n`,
    );
    if (values['no-wait']) {
      process.stdout.write(`${j.id}\n`);
      return;
    }
    summary(await follow(j.id));
    return;
  }
  if (cmd === 'status') {
    if (!args[0]) die(USAGE);
    summary(await follow(args[0]));
    return;
  }
  if (cmd === 'otp') {
    if (!args[0]) die(USAGE);
    const r = await call('POST', '/api/otp', JSON.stringify({ phone: args[0], purpose: values.purpose }), 'application/json');
    if (r.status !== 202) die(`refused (${r.status}): ${JSON.stringify(r.json)}`);
    process.stdout.write(`code sent: id ${r.json.id}, expires ${r.json.expiresAt}\n`);
    return;
  }
  if (cmd === 'verify') {
    if (!args[0] || !args[1]) die(USAGE);
    const r = await call('POST', '/api/otp/verify', JSON.stringify({ phone: args[0], purpose: values.purpose, code: args[1] }), 'application/json');
    process.stdout.write(`${r.status === 200 ? 'valid' : `not valid (${r.json.reason ?? r.status})`}\n`);
    if (r.status !== 200) process.exitCode = 2;
    return;
  }
  die(USAGE);
}

await main();
