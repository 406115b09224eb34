// Seen-set for one bulk job: one bit per possible Kenyan national significant number (9 digits),
// in a 12.5 MB bitmap per leading digit, allocated on first use. Mobiles start with 1 or 7, so a
// job holds at most 25 MB however many numbers it receives: bounded, O(1), no per-number objects.
const SPAN = 100_000_000; // numbers sharing a leading digit

export class SeenSet {
  private readonly maps: (Uint8Array | undefined)[] = [];

  /** True when msisdn (254 + 9 digits) was already added; adds it otherwise. */
  testAndAdd(msisdn: string): boolean {
    const nsn = msisdn.slice(3);
    const lead = nsn.charCodeAt(0) - 48;
    const idx = Number(nsn) - lead * SPAN;
    const map = (this.maps[lead] ??= new Uint8Array(SPAN / 8));
    const byte = idx >>> 3;
    const bit = 1 << (idx & 7);
    if (map[byte]! & bit) return true;
    map[byte] = map[byte]! | bit;
    return false;
  }

  get bytes(): number {
    return this.maps.reduce((a, m) => a + (m ? m.byteLength : 0), 0);
  }
}
