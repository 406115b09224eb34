// The run's summary, as CI logs show it: the seed first (to replay), purchases by outcome,
// faults by kind, the allowance phase, then every violation with its order id.
import type { AllowanceReport } from './allowance.js';
import type { Notes, Violation } from './checks.js';

export interface Summary {
  seed: number;
  durationS: number;
  rate: number;
  wallS: number;
  settleS: number;
  purchases: number;
  outcomes: Record<string, number>;
  faults: Record<string, number>;
  allowance: AllowanceReport;
  ledgerEntries: number;
  counted: Notes;
  violations: Violation[];
}

const table = (o: Record<string, number>) =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `    ${String(n).padStart(5)}  ${k}`)
    .join('\n');

const list = (xs: Array<string | number>) => `${xs.length}${xs.length ? ` (${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', …' : ''})` : ''}`;

export function printSummary(s: Summary, dir: string): void {
  const a = s.allowance;
  console.log(
    [
      `chaos summary: seed ${s.seed} (replay: npm run chaos -- --seed ${s.seed} --duration ${s.durationS} --rate ${s.rate})`,
      `  wall ${s.wallS} s, settled in ${s.settleS} s, ${s.ledgerEntries} gateway ledger entries`,
      `  purchases: ${s.purchases}`,
      table(s.outcomes),
      '  faults injected:',
      table(s.faults),
      `  allowance phase: ${a.free} free slots/min, bulk campaign ${a.campaign ?? '(none)'} of ${a.recipients}${a.startErrors.length ? ` (${a.startErrors.length} tries refused first: ${a.startErrors[0]})` : ''}, payments waiting for the gateway at most ${a.maxWaiting}, oldest wait ${a.maxOldestWaitS} s (${a.samples} samples); sent meanwhile: ${a.sentDuring?.other ?? 0} money/receipt/lookup requests, ${a.sentDuring?.bulk ?? 0} bulk batches`,
      `  order SMS the gateway refused or left unknown (counted as sent by design): ${list(s.counted.unconfirmed)}`,
      `  told "try again" by a repeat while the order went on, corrected by the order's own SMS: ${list(s.counted.corrected)}`,
      `  repeated requests answered with another screen (no money at stake): ${list(s.counted.screenRepeats)}; with another money answer: ${list(s.counted.moneyRepeats)}`,
      `  violations: ${s.violations.length}`,
      ...s.violations.slice(0, 50).map((v) => `    ${v.orderId ?? '-'}${v.purchase ? ` (purchase ${v.purchase})` : ''}: ${v.what}`),
      s.violations.length > 50 ? `    … ${s.violations.length - 50} more in ${dir}/summary.json` : '',
      `  details: ${dir}/summary.json`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
}
