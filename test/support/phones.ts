// Phone numbers for tests: many distinct valid ones, the same one in other accepted formats,
// and the comparison the sandbox's records need (they keep whatever format was sent).

/** n distinct valid Kenyan mobiles (Safaricom 07xx), deterministic from seed. */
export function uniqueNumbers(n: number, seed: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`07${String(10 + (seed % 20)).padStart(2, '0')}${String(i).padStart(6, '0')}`);
  return out;
}

/** The same number in another accepted format, chosen by i. */
export function reformat(national: string, i: number): string {
  const n9 = national.slice(1);
  return [`+254${n9}`, `254${n9}`, n9, `0${n9.slice(0, 3)} ${n9.slice(3, 6)} ${n9.slice(6)}`][i % 4]!;
}

/** The 9 digits after the country code / trunk 0, whatever format the sandbox records. */
export const nsn = (phone: string) => phone.replace(/\D/g, '').slice(-9);
