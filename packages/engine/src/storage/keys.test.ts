import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKalamError } from '../core/errors';
import { compareBytes, decodeKey, encodeKey, KeyEncoder, prefixUpperBound, type KeyPart } from './keys';

// ------------------------------------------------ an independent reference order

function typeRank(v: KeyPart): number {
  if (v === null) return 0;
  if (v === false) return 1;
  if (v === true) return 2;
  if (typeof v === 'number' || typeof v === 'bigint') return 3;
  if (typeof v === 'string') return 4;
  return 5;
}

function codePoints(s: string): number[] {
  return Array.from(s, (c) => c.codePointAt(0)!);
}

function compareSequences(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return Math.sign(a.length - b.length);
}

function comparePart(a: KeyPart, b: KeyPart): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return Math.sign(ra - rb);
  if (ra === 3) {
    // JS compares a number with a bigint by exact mathematical value.
    const x = a as number | bigint;
    const y = b as number | bigint;
    if (x < y) return -1;
    if (x > y) return 1;
    if (typeof x === typeof y) return 0;
    return typeof x === 'number' ? -1 : 1; // same value: the number first
  }
  if (ra === 4) return compareSequences(codePoints(a as string), codePoints(b as string));
  if (ra === 5) return compareSequences(a as Uint8Array, b as Uint8Array);
  return 0;
}

function compareTuples(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = comparePart(a[i], b[i]);
    if (c !== 0) return c;
  }
  return Math.sign(a.length - b.length);
}

function isTuplePrefix(prefix: readonly KeyPart[], t: readonly KeyPart[]): boolean {
  return prefix.length <= t.length && prefix.every((p, i) => comparePart(p, t[i]) === 0);
}

// ------------------------------------------------------------------ generators

const bigAnchors = [0, 2 ** 53, 2 ** 60, 2 ** 63, 2 ** 64, 1e300, Number.MAX_VALUE];

/** Numbers and bigints that sit next to, on, and between each other. */
const nearbyNumeric: fc.Arbitrary<number | bigint> = fc
  .tuple(
    fc.constantFrom(...bigAnchors),
    fc.boolean(),
    fc.oneof(fc.integer({ min: -3000, max: 3000 }).map(BigInt), fc.integer({ min: 0, max: 1100 }).map((e) => 2n ** BigInt(e))),
    fc.boolean(),
  )
  .map(([anchor, isNegative, offset, asBigint]) => {
    const base = isNegative ? -anchor : anchor;
    if (asBigint) return BigInt(base) + offset;
    return base;
  });

const numeric: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(0, -0, Infinity, -Infinity, 5, 5.5, 6, Number.MIN_VALUE, -Number.MIN_VALUE),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -20n, max: 20n }),
  nearbyNumeric,
);

/** Strings heavy on the characters that matter to the encoding. */
const trickyString = fc.string({
  unit: fc.constantFrom('\0', '\x01', 'a', 'b', '\x7f', '\x80', 'é', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10ffff}', '\ud800', '\udc00'),
  maxLength: 6,
});

const part: fc.Arbitrary<KeyPart> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  numeric,
  fc.string({ unit: 'binary', maxLength: 8 }),
  trickyString,
  fc.uint8Array({ maxLength: 6 }),
  fc.uint8Array({ maxLength: 4 }).map((b) => b.map((x) => (x % 3 === 0 ? 0 : x % 3 === 1 ? 255 : x))),
);

const tuple = fc.array(part, { maxLength: 4 });

/** Pairs that often share a prefix, so later elements get compared too. */
const tuplePair = fc.tuple(tuple, tuple, tuple).map(([common, a, b]) => [common.concat(a), common.concat(b)] as const);

const normalize = (t: readonly KeyPart[]) => t.map((p) => (typeof p === 'number' && p === 0 ? 0 : p));

/**
 * Property runs: `npm run mutate` runs this file once per mutant and sets
 * PROPERTY_RUNS_SCALE (scripts/mutate.vitest.config.ts) to run a tenth of
 * them. A mutant counts as killed only on a real failing case, so the
 * smaller sample can only lower the score, not raise it.
 */
const runs = (n: number) => Math.max(100, Math.round(n * Number(process.env.PROPERTY_RUNS_SCALE ?? 1)));

// ----------------------------------------------------------------------- tests

describe('key encoding', () => {
  it('sorts encoded tuples bytewise exactly as the tuples sort', () => {
    fc.assert(
      fc.property(tuplePair, ([a, b]) => {
        expect(Math.sign(compareBytes(encodeKey(a), encodeKey(b)))).toBe(compareTuples(a, b));
      }),
      { numRuns: runs(3000) },
    );
  });

  it('sorts numbers and bigints that round to the same double by their exact value', () => {
    const near = fc
      .tuple(fc.integer({ min: -600, max: 600 }), fc.boolean())
      .map(([offset, asBigint]) => (asBigint ? 2n ** 60n + BigInt(offset) : 2 ** 60 + offset));
    const farOut = fc
      .tuple(fc.bigInt({ min: -(2n ** 1000n), max: 2n ** 1000n }), fc.boolean())
      .map(([offset, isNegative]) => (isNegative ? -1n : 1n) * (BigInt(Number.MAX_VALUE) + offset));
    fc.assert(
      fc.property(fc.oneof(near, farOut), fc.oneof(near, farOut), (a, b) => {
        expect(Math.sign(compareBytes(encodeKey([a]), encodeKey([b])))).toBe(compareTuples([a], [b]));
        expect(decodeKey(encodeKey([a]))).toEqual([a]);
      }),
      { numRuns: runs(3000) },
    );
  });

  it('decodes every encoded tuple back to equal values of the same types', () => {
    fc.assert(
      fc.property(tuple, (t) => {
        const back = decodeKey(encodeKey(t));
        expect(back).toEqual(normalize(t));
        back.forEach((p, i) => expect(typeof p).toBe(typeof t[i]));
      }),
      { numRuns: runs(2000) },
    );
  });

  it('bounds a prefix so the range holds exactly the tuples that extend it', () => {
    fc.assert(
      fc.property(tuple, tuple, fc.boolean(), (prefix, other, isExtension) => {
        const t = isExtension ? prefix.concat(other) : other;
        const lower = encodeKey(prefix);
        const upper = prefixUpperBound(lower);
        const key = encodeKey(t);
        const isInRange = compareBytes(lower, key) <= 0 && compareBytes(key, upper) < 0;
        expect(isInRange).toBe(isTuplePrefix(prefix, t));
      }),
      { numRuns: runs(3000) },
    );
  });

  it('gives the same bytes from a KeyEncoder, part by part or whole, as from encodeKey', () => {
    const encoder = new KeyEncoder(4);
    fc.assert(
      fc.property(tuple, (t) => {
        const expected = encodeKey(t);
        expect(encoder.encode(t)).toEqual(expected);
        const stepwise = encoder.begin();
        for (const p of t) stepwise.add(p);
        expect(stepwise.finish()).toEqual(expected);
      }),
    );
  });

  it('grows its scratch buffer by what each part needs, from any starting size: a fresh encoder of 1 to 48 bytes gives encodeKey\'s bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 48 }), tuple, (capacity, t) => {
        expect(new KeyEncoder(capacity).encode(t)).toEqual(encodeKey(t));
        const stepwise = new KeyEncoder(capacity).begin();
        for (const p of t) stepwise.add(p);
        expect(stepwise.finish()).toEqual(encodeKey(t));
      }),
      { numRuns: runs(2000) },
    );
    // Each kind of part written at every offset of a small buffer: the room each write asks for is exact.
    const samples: KeyPart[] = [null, true, 0, -1.5, 2 ** 60, 12345678901234567890n, -(2n ** 70n), '', 'é😀\0x', new Uint8Array([0, 1, 0, 255])];
    for (let capacity = 1; capacity <= 48; capacity++) {
      for (const part of samples) {
        for (let pad = 0; pad < 12; pad++) {
          const key: KeyPart[] = ['p'.repeat(pad), part, part];
          expect(new KeyEncoder(capacity).encode(key)).toEqual(encodeKey(key));
        }
      }
    }
  });

  it('returns a fresh array per key, so an earlier key is not overwritten by the next', () => {
    const encoder = new KeyEncoder();
    const first = encoder.encode(['a', 1]);
    const copy = first.slice();
    encoder.encode(['zzzz', 99]);
    expect(first).toEqual(copy);
    expect(first.buffer.byteLength).toBe(first.length);
  });

  it('orders the named edge cases', () => {
    const ordered: KeyPart[][] = [
      [],
      [null],
      [false],
      [true],
      [-Infinity],
      [-(2n ** 70n)],
      [-(2n ** 63n)],
      [-1.5],
      [-1],
      [-1n],
      [0],
      [0n],
      [Number.MIN_VALUE],
      [5n],
      [5.5],
      [6],
      [2 ** 53],
      [2n ** 53n],
      [2n ** 53n + 1n],
      [2 ** 53 + 2],
      [2n ** 60n - 10n],
      [2 ** 60],
      [2n ** 60n],
      [2n ** 60n + 10n],
      [2n ** 63n - 1n],
      [Number.MAX_VALUE],
      [2n ** 1024n],
      [Infinity],
      [''],
      ['', null],
      ['\0'],
      ['a'],
      ['a', null],
      ['a', 'b'],
      ['a\0'],
      ['a\0b'],
      ['ab'],
      ['é'],
      ['\ud800'],
      ['\uffff'],
      ['😀'],
      [new Uint8Array([])],
      [new Uint8Array([0])],
      [new Uint8Array([0, 0])],
      [new Uint8Array([1])],
      [new Uint8Array([255])],
    ];
    for (let i = 1; i < ordered.length; i++) {
      expect(compareBytes(encodeKey(ordered[i - 1]), encodeKey(ordered[i])), `${String(ordered[i - 1])} < ${String(ordered[i])}`).toBeLessThan(0);
      expect(compareTuples(ordered[i - 1], ordered[i])).toBe(-1);
    }
  });

  it('stores -0 as the same key as 0', () => {
    expect(encodeKey([-0])).toEqual(encodeKey([0]));
    expect(Object.is(decodeKey(encodeKey([-0]))[0], 0)).toBe(true);
  });

  it('keeps a bigint a bigint and a number a number, even when they are equal', () => {
    expect(decodeKey(encodeKey([5n, 5, 2n ** 64n + 3n, -(2n ** 64n) - 3n]))).toEqual([5n, 5, 2n ** 64n + 3n, -(2n ** 64n) - 3n]);
    expect(encodeKey([5n])).not.toEqual(encodeKey([5]));
  });

  it('rejects NaN as INVALID_PARAMETER', () => {
    expect(() => encodeKey([NaN])).toThrowError(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
  });

  it('rejects parts of other types as INVALID_PARAMETER', () => {
    for (const bad of [undefined, {}, [1], new Date(0), Symbol('s')]) {
      let error: unknown;
      try {
        encodeKey([bad as unknown as KeyPart]);
      } catch (e) {
        error = e;
      }
      expect(isKalamError(error) && error.code).toBe('INVALID_PARAMETER');
    }
  });

  it('never starts a part with the byte 0xFF', () => {
    fc.assert(
      fc.property(part, (p) => {
        expect(encodeKey([p])[0]).not.toBe(0xff);
      }),
    );
  });

  it('reports truncated or unknown bytes as a corrupt key (STORAGE_ERROR)', () => {
    const full = encodeKey(['abc', 1.5]);
    for (const bad of [full.subarray(0, full.length - 3), new Uint8Array([0x30, 0x61]), new Uint8Array([0xee])]) {
      expect(() => decodeKey(bad)).toThrowError(expect.objectContaining({ code: 'STORAGE_ERROR' }));
    }
  });

  it('writes the bytes it always wrote: keys are stored, so the encoding never changes', () => {
    const hex = (parts: KeyPart[]) => Array.from(encodeKey(parts), (b) => b.toString(16).padStart(2, '0')).join('');
    expect(hex([null, false, true, 1.5, -1, 0])).toBe('05101120bff80000000000000220400fffffffffffff0220800000000000000002');
    expect(hex([5n, -(2n ** 53n), 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 64n + 3n, -(2n ** 64n) - 3n])).toBe('20c01400000000000003203cbfffffffffffff0320c3400000000000000320c340000000000000040101203cbfffffffffffff01fefe20c3f0000000000000040103203c0fffffffffffff01fefc');
    expect(hex(['a\u0000\u007f\u0080\u07ff\u0800é😀\ud800x\udc00\ud800'])).toBe('306100ff7fc280dfbfe0a080c3a9f09f9880eda08078edb080eda08000');
    expect(hex([new Uint8Array([0, 1, 255])])).toBe('4000ff01ff00');
  });

  it('says what is wrong with a corrupt key', () => {
    const message = (bytes: number[]) => {
      try {
        decodeKey(new Uint8Array(bytes));
      } catch (e) {
        expect(isKalamError(e) && e.code).toBe('STORAGE_ERROR');
        return (e as Error).message.replace(/^A stored key is corrupt \((.*)\)\. The database files may be damaged; export what you can and clear this site's data\.$/, '$1');
      }
      return 'decoded';
    };
    const number = [...encodeKey([1.5])];
    expect(message(number.slice(0, 9))).toBe('a number is cut short');
    expect(message(number)).toBe('decoded');
    expect(message([...number.slice(0, 9), 0x07])).toBe('unknown number class 7');
    const above = [...encodeKey([2n ** 64n + 3n])];
    expect(message(above.slice(0, 10))).toBe('a bigint is cut short');
    expect(message(above.slice(0, above.length - 1))).toBe('a bigint is cut short');
    const below = [...encodeKey([-(2n ** 64n) - 3n])];
    expect(message(below.slice(0, 10))).toBe('a bigint is cut short');
    expect(message(below.slice(0, below.length - 1))).toBe('a bigint is cut short');
    expect(message(below)).toBe('decoded');
    expect(message([0x30, 0x61, 0x00, 0xff])).toBe('a string or byte array has no terminator');
    expect(message([0x40, 0x01])).toBe('a string or byte array has no terminator');
    expect(message([0x30, 0xe2, 0x82, 0x00])).toBe('a string ends inside a character');
    expect(message([0xee])).toBe('unknown tag 238');
  });

  it('names the kind of value a key part cannot be, and refuses bigints past about ±2^2000', () => {
    const message = (part: unknown) => {
      try {
        encodeKey([part as KeyPart]);
      } catch (e) {
        expect(isKalamError(e) && e.code).toBe('INVALID_PARAMETER');
        return (e as Error).message;
      }
      return 'encoded';
    };
    const kind = (what: string) => `A key part must be null, a boolean, a number, a bigint, a string or a Uint8Array, not ${what}.`;
    expect(message(undefined)).toBe(kind('undefined'));
    expect(message([1])).toBe(kind('an array'));
    expect(message(new Date(0))).toBe(kind('an object ([object Date])'));
    expect(message(Symbol('s'))).toBe(kind('a symbol'));
    expect(message(NaN)).toBe('NaN cannot be part of a key. Use a number, or NULL.');
    const tooLarge = 'This bigint is too large to be part of a key (keys hold integers up to about ±2^2000).';
    // The largest magnitude a key holds is 254 bytes beyond the nearest double (clamped at ±MAX_VALUE).
    const limit = BigInt(Number.MAX_VALUE) + 2n ** (254n * 8n) - 1n;
    expect(decodeKey(encodeKey([limit]))).toEqual([limit]);
    expect(decodeKey(encodeKey([-limit]))).toEqual([-limit]);
    expect(message(limit + 1n)).toBe(tooLarge);
    expect(message(-limit - 1n)).toBe(tooLarge);
  });

  it('keeps bigints next to the clamped double apart and in order', () => {
    const max = BigInt(Number.MAX_VALUE);
    const keys = [-max - 2n, -max - 1n, -max, max, max + 1n, max + 256n];
    for (let i = 1; i < keys.length; i++) expect(compareBytes(encodeKey([keys[i - 1]]), encodeKey([keys[i]]))).toBeLessThan(0);
    for (const k of keys) expect(decodeKey(encodeKey([k]))).toEqual([k]);
  });

  it('compares bytes unsigned with a shorter prefix first', () => {
    expect(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBeLessThan(0);
    expect(compareBytes(new Uint8Array([0x7f]), new Uint8Array([0x80]))).toBeLessThan(0);
    expect(compareBytes(new Uint8Array([2, 3]), new Uint8Array([2, 3]))).toBe(0);
    expect(compareBytes(new Uint8Array([255]), new Uint8Array([1, 1]))).toBeGreaterThan(0);
  });

  it('encodes long strings and large byte arrays past the scratch buffer', () => {
    const encoder = new KeyEncoder(8);
    const long = 'x\0é😀'.repeat(30_000);
    const bytes = new Uint8Array(100_000).fill(0);
    expect(decodeKey(encoder.encode([long, bytes]))).toEqual([long, bytes]);
    expect(decodeKey(encoder.encode(['after']))).toEqual(['after']);
  });
});
