// A small seeded PRNG (mulberry32): the same --seed draws the same purchases and the same fault
// schedule, so a run that found a violation can be replayed.
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** An independent stream for one concern (purchases, faults), so adding one never shifts the other. */
  fork(salt: number): Rng {
    return new Rng((this.s ^ Math.imul(salt, 0x9e3779b1)) >>> 0);
  }
}
