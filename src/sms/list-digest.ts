// An order-independent fingerprint of a recipient list, built one number at a time in O(1)
// memory: four independent 32-bit hashes of each (already de-duplicated) number, summed.
// Two uploads of the same numbers in any order and any accepted format give the same digest;
// it recognises an accidental re-send of a campaign, it is not meant to resist a forger.
const SEEDS = [0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f];

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class ListDigest {
  private readonly acc = [0, 0, 0, 0];
  private count = 0;

  /** msisdn: 254 + 9 digits (the national significant number fits in 30 bits). */
  add(msisdn: string): void {
    const n = Number(msisdn.slice(3));
    for (let i = 0; i < 4; i++) this.acc[i] = (this.acc[i]! + fmix32((n ^ SEEDS[i]!) + Math.imul(i + 1, 0x632be5ab))) >>> 0;
    this.count++;
  }

  toString(): string {
    return `${this.count}:${this.acc.map((a) => a.toString(16).padStart(8, '0')).join('')}`;
  }
}
