// `npm run chaos -- [--duration 120] [--seed N] [--rate 5]`
export interface ChaosArgs {
  /** Seconds of purchases and faults (the settling afterwards comes on top). */
  durationS: number;
  seed: number;
  /** Purchases started per second. */
  rate: number;
  /** Where the processes' logs and the report go. */
  dir?: string;
}

export function parseArgs(argv: string[]): ChaosArgs {
  const out: ChaosArgs = { durationS: 120, seed: Math.floor(Math.random() * 2 ** 31), rate: 5 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      i++;
      return n;
    };
    if (flag === '--duration') out.durationS = num();
    else if (flag === '--seed') out.seed = Math.floor(num());
    else if (flag === '--rate') out.rate = num();
    else if (flag === '--dir') {
      out.dir = v;
      i++;
    } else throw new Error(`unknown flag ${flag} (use --duration S, --seed N, --rate R, --dir PATH)`);
  }
  return out;
}
