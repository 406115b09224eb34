// JSON.parse reorders integer-like keys ({"b":1,"2":2} iterates "2" first); PHP's json_decode
// keeps the order they were sent in. The signature walks keys in order, so an incoming body
// (a callback, a request to the sandbox) is parsed with this order-preserving parser before
// its signature is checked. Objects become OrderedObject, numbers JsonNumber; toPlain() undoes both.

export class OrderedObject {
  constructor(readonly entries: Array<[string, unknown]>) {}
  get(key: string): unknown {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === key) return this.entries[i]![1];
    return undefined;
  }
}

/**
 * A number as written in the JSON text. PHP decodes an integer literal within int64 as an int
 * and anything with a fraction, an exponent or out of int64 range as a float, and prints the two
 * differently (1e15 → "1.0E+15"); keeping the text lets the signature tell them apart.
 */
export class JsonNumber {
  constructor(readonly raw: string) {}
  get isPhpInt(): boolean {
    if (!/^-?\d+$/.test(this.raw)) return false;
    const b = BigInt(this.raw);
    return b >= -(2n ** 63n) && b < 2n ** 63n;
  }
  valueOf(): number {
    return Number(this.raw);
  }
}

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

/** Parses JSON text keeping object key order. Throws JsonSyntaxError on invalid input. */
export function parseOrdered(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };

  function str(): string {
    // Delegate escapes to JSON.parse on the exact string token.
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string');
    }
  }

  function value(depth: number): unknown {
    if (depth > 512) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, unknown]> = [];
      const index = new Map<string, number>();
      ws();
      if (text[i] === '}') {
        i++;
        return new OrderedObject(entries);
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected key');
        const k = str();
        ws();
        if (text[i++] !== ':') fail('expected :');
        const v = value(depth + 1);
        // A repeated key keeps its first position and takes the last value (PHP and JS agree).
        const at = index.get(k);
        if (at === undefined) {
          index.set(k, entries.length);
          entries.push([k, v]);
        } else entries[at] = [k, v];
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return new OrderedObject(entries);
        }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return new JsonNumber(m[0]);
  }

  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing data');
  return v;
}

/** Plain JS value (objects as records) for reading fields after the signature check. */
export function toPlain(v: unknown): unknown {
  if (v instanceof OrderedObject) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.entries) o[k] = toPlain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof JsonNumber) return Number(v.raw);
  return v;
}
